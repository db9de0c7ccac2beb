/** Azure composition root (`package.json` "main"): registers the function table with the Functions host. */
import { app } from '@azure/functions';
import * as df from 'durable-functions';
import { durableOrchestrationClient } from '../shared/orchestration/durable';
import { startTelemetry } from '../shared/telemetry/azure-monitor';
import { createFunctionDeps, type FunctionDeps } from './deps';
import { registerFunctions } from './register';
import { functionTable } from './table';

// Before any dependency is built: the metrics take their meter from the provider this installs.
startTelemetry(process.env);

let deps: Promise<FunctionDeps> | undefined;
const getDeps = (): Promise<FunctionDeps> =>
  (deps ??= Promise.resolve().then(() => createFunctionDeps(process.env, durableOrchestrationClient)));

registerFunctions(functionTable, getDeps, { app, durable: df.app });
