/** Azure composition root (`package.json` "main"): registers the function table with the Functions host. */
import { app } from '@azure/functions';
import * as df from 'durable-functions';
import { durableOrchestrationClient } from '../shared/orchestration/durable';
import { startTelemetry } from '../shared/telemetry/azure-monitor';
import { createFunctionDeps, lazyDeps } from './deps';
import { registerFunctions } from './register';
import { functionTable } from './table';

// Before any dependency is built: the metrics take their meter from the provider this installs.
startTelemetry(process.env);

/** Exported for the local host, which loads this very file (local/host/registrations.ts) and supplies its settings. */
export const dependencies = lazyDeps(() => createFunctionDeps(process.env, durableOrchestrationClient));

registerFunctions(functionTable, dependencies.get, { app, durable: df.app });
