/** Azure composition root (`package.json` "main"): registers the function table with the Functions host. */
import { app } from '@azure/functions';
import * as df from 'durable-functions';
import { durableOrchestrationClient } from '../shared/orchestration/durable';
import { createFunctionDeps, lazyDeps } from './deps';
import { registerFunctions } from './register';
import { functionTable } from './table';

/** Exported for the local host, which loads this very file (local/host/registrations.ts) and supplies its settings. */
export const dependencies = lazyDeps(() => createFunctionDeps(process.env, durableOrchestrationClient));

registerFunctions(functionTable, dependencies.get, { app, durable: df.app });
