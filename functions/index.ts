/** Azure composition root (`package.json` "main"): registers the function table with the Functions host. */
import { app } from '@azure/functions';
import * as df from 'durable-functions';
import { durableOrchestrationClient } from '../shared/orchestration/durable';
import { createFunctionDeps, type FunctionDeps } from './deps';
import { registerFunctions } from './register';
import { functionTable } from './table';

let deps: Promise<FunctionDeps> | undefined;
const getDeps = (): Promise<FunctionDeps> =>
  (deps ??= Promise.resolve().then(() => createFunctionDeps(process.env, durableOrchestrationClient)));

registerFunctions(functionTable, getDeps, { app, durable: df.app });
