/**
 * A stand-in for `@azure/functions-core`, the module the Azure Functions Node.js worker injects into the app's
 * process: `@azure/functions` requires it lazily (node_modules/@azure/functions/src/utils/tryGetCoreApiLazy.ts)
 * to set its programming model and to register every `app.*` / `df.app.*` function. Like the worker, it answers
 * `require('@azure/functions-core')` by a proxy on `Module.prototype.require` (https://github.com/Azure/azure-functions-nodejs-worker, src/setupCoreModule.ts),
 * so the local host sees exactly the metadata and callbacks Azure's worker receives, from the real entry file.
 */
import Module from 'node:module';
import { ExportError } from '../../shared/errors';

/** One binding of a function's metadata, as `@azure/functions` builds it (converters/toCoreFunctionMetadata.ts). */
export interface CoreBindingInfo {
  type: string;
  direction: 'in' | 'out' | 'inout';
  name?: string;
  [property: string]: unknown;
}

export interface CoreFunctionMetadata {
  name: string;
  bindings: Record<string, CoreBindingInfo>;
  retryOptions?: unknown;
}

export type CoreFunctionCallback = (...args: unknown[]) => unknown;

export type CoreLogLevel = 'trace' | 'debug' | 'information' | 'warning' | 'error' | 'critical' | 'none';

/** The RPC typed data the worker hands the programming model; the subset the local host produces. */
export interface CoreTypedData {
  string?: string;
  json?: string;
  bytes?: Uint8Array;
  http?: Record<string, unknown>;
  int?: number;
  double?: number;
}

export interface CoreInvocationRequest {
  invocationId: string;
  functionId: string;
  inputData: Array<{ name: string; data: CoreTypedData }>;
  triggerMetadata: Record<string, CoreTypedData>;
}

export interface CoreInvocationContext {
  invocationId: string;
  request: CoreInvocationRequest;
  metadata: CoreFunctionMetadata;
  state?: 'preInvocationHooks' | 'postInvocationHooks' | 'invocation';
  log(level: CoreLogLevel, category: 'user' | 'system' | 'customMetric', message: string): void;
}

export interface CoreInvocationResponse {
  invocationId: string;
  outputData?: Array<{ name: string; data: CoreTypedData | null | undefined }>;
  returnValue?:
    (CoreTypedData & { http?: { statusCode?: string; headers?: Record<string, string>; body?: CoreTypedData } }) | null;
}

export interface CoreInvocationModel {
  getArguments(): Promise<{ context: unknown; inputs: unknown[] }>;
  invokeFunction(context: unknown, inputs: unknown[], callback: CoreFunctionCallback): Promise<unknown>;
  getResponse(context: unknown, result: unknown): Promise<CoreInvocationResponse>;
}

export interface CoreProgrammingModel {
  name: string;
  version: string;
  getInvocationModel(context: CoreInvocationContext): CoreInvocationModel | Promise<CoreInvocationModel>;
}

export type HookCallback = (context: Record<string, unknown>) => unknown;

/** One function as the worker holds it: its metadata, its callback, and the model that invokes it. */
export interface CapturedFunction {
  name: string;
  metadata: CoreFunctionMetadata;
  callback: CoreFunctionCallback;
  programmingModel: CoreProgrammingModel;
}

class Disposable {
  constructor(private readonly onDispose: () => void) {}
  dispose(): void {
    this.onDispose();
  }
}

/** The worker keeps one app per process; so does this stand-in. */
type Registry = Map<string, { metadata: CoreFunctionMetadata; callback: CoreFunctionCallback }>;

const state: {
  programmingModel?: CoreProgrammingModel;
  capturing?: Registry;
  hooks: Map<string, HookCallback[]>;
  installed: boolean;
} = { hooks: new Map(), installed: false };

/** Hooks the local host runs around each invocation, as the worker's InvocationHandler does. */
const SUPPORTED_HOOKS = ['preInvocation', 'postInvocation'];

const coreApi = {
  version: 'local-host',
  hostVersion: 'local-host',
  setProgrammingModel(model: CoreProgrammingModel): void {
    state.programmingModel = model;
  },
  getProgrammingModel: (): CoreProgrammingModel | undefined => state.programmingModel,
  registerFunction(metadata: CoreFunctionMetadata, callback: CoreFunctionCallback): Disposable {
    const functions = state.capturing;
    // The worker's own message (https://github.com/Azure/azure-functions-nodejs-worker, src/coreApi/registerFunction.ts).
    if (!functions)
      throw new ExportError('config', 'A function can only be registered during app startup.', {
        where: metadata.name,
      });
    if (functions.has(metadata.name)) {
      throw new ExportError('config', `A function named '${metadata.name}' is already registered`, {
        where: metadata.name,
        fix: 'Function names are unique within a Function App; rename one of them.',
      });
    }
    functions.set(metadata.name, { metadata, callback });
    return new Disposable(() => functions.delete(metadata.name));
  },
  registerHook(hookName: string, callback: HookCallback): Disposable {
    if (!SUPPORTED_HOOKS.includes(hookName)) {
      throw new ExportError('config', `The local host does not run '${hookName}' hooks`, {
        where: hookName,
        fix: `Only ${SUPPORTED_HOOKS.join(' and ')} hooks run locally; add the others to local/host/functions-core.ts first.`,
      });
    }
    const list = state.hooks.get(hookName) ?? [];
    state.hooks.set(hookName, [...list, callback]);
    return new Disposable(() =>
      state.hooks.set(
        hookName,
        (state.hooks.get(hookName) ?? []).filter((hook) => hook !== callback),
      ),
    );
  },
  /** System logs of the library (its workerSystemLog); warnings and worse reach stderr, as the worker logs them. */
  log(level: CoreLogLevel, _category: string, message: string): void {
    if (level === 'warning' || level === 'error' || level === 'critical')
      process.stderr.write(`functions-core ${level}: ${message}\n`);
  },
  Disposable,
};

/** Makes `require('@azure/functions-core')` answer the stand-in in this process (once; later calls do nothing). */
export function installFunctionsCore(): void {
  if (state.installed) return;
  state.installed = true;
  const original = Module.prototype.require;
  Module.prototype.require = new Proxy(original, {
    apply(target, thisArg, args: unknown[]): unknown {
      return args[0] === '@azure/functions-core' ? coreApi : Reflect.apply(target, thisArg, args);
    },
  });
}

/**
 * Runs `load` (which imports an entry file or calls `app.*`) with registration open and returns what it registered.
 * `@azure/functions` sets its programming model on its first registration in the process and keeps the core API it
 * found, so the stand-in must be installed before anything registers; a module already loaded registers nothing again.
 */
export async function captureRegistrations(load: () => unknown): Promise<CapturedFunction[]> {
  installFunctionsCore();
  if (state.capturing) throw new ExportError('config', 'Registrations are already being captured in this process');
  const functions: Registry = new Map();
  state.capturing = functions;
  try {
    await load();
  } finally {
    state.capturing = undefined;
  }
  const programmingModel = state.programmingModel;
  if (!programmingModel && functions.size > 0) {
    throw new ExportError('config', '@azure/functions registered functions without setting its programming model', {
      fix: 'Load @azure/functions only after installFunctionsCore(), so it finds the stand-in on its first registration.',
    });
  }
  return [...functions.values()].map(({ metadata, callback }) => ({
    name: metadata.name,
    metadata,
    callback,
    programmingModel: programmingModel as CoreProgrammingModel,
  }));
}

/** The hooks registered for `hookName`, in registration order. */
export const hooksFor = (hookName: string): readonly HookCallback[] => state.hooks.get(hookName) ?? [];
