/**
 * Invokes a captured function the way the Node.js worker does (https://github.com/Azure/azure-functions-nodejs-worker,
 * src/eventHandlers/InvocationHandler.ts): an RPC invocation request with one `inputData` entry per declared
 * input binding, handed to the programming model's invocation model — `getArguments()`, pre-invocation hooks,
 * `invokeFunction()`, post-invocation hooks, `getResponse()`. So `@azure/functions` itself builds the
 * InvocationContext (its `options.extraInputs` and `extraInputs` come from the metadata), and a binding the
 * function did not declare is missing here exactly as it is in Azure.
 */
import type { LogHandler } from '@azure/functions';
import { randomUUID } from 'node:crypto';
import { ExportError } from '../../shared/errors';
import {
  hooksFor,
  type CapturedFunction,
  type CoreBindingInfo,
  type CoreInvocationContext,
  type CoreInvocationResponse,
  type CoreTypedData,
} from './functions-core';

/** What the host sends for one invocation: the trigger's data and metadata (RPC typed data, as the host sends them). */
export interface TriggerInput {
  data: CoreTypedData;
  metadata?: Record<string, CoreTypedData>;
}

/**
 * Data for the extra input bindings a function declares, by binding type — the Functions host's binding
 * extensions. Called only for bindings in the metadata; `undefined` means the local host has no such extension.
 */
export type ExtraInputProvider = (binding: CoreBindingInfo, functionName: string) => CoreTypedData | undefined;

/** Shared by every invocation's hooks, as the worker's `appHookData` is. */
const appHookData: Record<string, unknown> = {};

const isTrigger = (type: string): boolean => /trigger$/i.test(type);

export function triggerBinding(fn: CapturedFunction): CoreBindingInfo & { name: string } {
  const found = Object.entries(fn.metadata.bindings).find(([, binding]) => isTrigger(binding.type));
  if (!found) throw new ExportError('config', `Function '${fn.name}' has no trigger binding`, { where: fn.name });
  return { ...found[1], name: found[0] };
}

/** The declared input bindings other than the trigger, by binding name. */
export const extraInputBindings = (fn: CapturedFunction): Array<[string, CoreBindingInfo]> =>
  Object.entries(fn.metadata.bindings).filter(([, binding]) => binding.direction === 'in' && !isTrigger(binding.type));

function inputData(
  fn: CapturedFunction,
  trigger: TriggerInput,
  extraInputs: ExtraInputProvider,
): CoreInvocationContext['request']['inputData'] {
  const inputs = [{ name: triggerBinding(fn).name, data: trigger.data }];
  for (const [name, binding] of extraInputBindings(fn)) {
    const data = extraInputs(binding, fn.name);
    if (!data) {
      throw new ExportError(
        'config',
        `Function '${fn.name}' declares a '${binding.type}' input binding the local host does not provide`,
        {
          where: `${fn.name}.${name}`,
          fix: 'Provide data for this binding type in the local host (local/host/invoke.ts callers), or remove the binding.',
        },
      );
    }
    inputs.push({ name, data });
  }
  return inputs;
}

async function runHooks(name: 'preInvocation' | 'postInvocation', context: Record<string, unknown>): Promise<void> {
  for (const hook of hooksFor(name)) await hook(context);
}

/** Invokes `fn` once; resolves to the worker's invocation response, rejects with what the handler threw. */
export async function invokeCaptured(
  fn: CapturedFunction,
  trigger: TriggerInput,
  options: { extraInputs: ExtraInputProvider; log: LogHandler; invocationId?: string },
): Promise<CoreInvocationResponse> {
  const invocationId = options.invocationId ?? randomUUID();
  const coreContext: CoreInvocationContext = {
    invocationId,
    request: {
      invocationId,
      functionId: fn.name,
      inputData: inputData(fn, trigger, options.extraInputs),
      triggerMetadata: trigger.metadata ?? {},
    },
    metadata: fn.metadata,
    log: (level, _category, message) => options.log(level, message),
  };
  const model = await fn.programmingModel.getInvocationModel(coreContext);
  const { context, inputs } = await model.getArguments();
  const hookData = {};
  const pre = { hookData, appHookData, invocationContext: context, functionCallback: fn.callback, inputs };
  coreContext.state = 'preInvocationHooks';
  await runHooks('preInvocation', pre);
  coreContext.state = 'invocation';
  const post: Record<string, unknown> = {
    hookData,
    appHookData,
    invocationContext: context,
    inputs: pre.inputs,
    result: null,
    error: null,
  };
  try {
    post.result = await model.invokeFunction(context, pre.inputs, pre.functionCallback);
  } catch (error) {
    post.error = error;
  }
  coreContext.state = 'postInvocationHooks';
  await runHooks('postInvocation', post);
  coreContext.state = undefined;
  // Rethrown as it is, like the Functions host: whatever the function or a hook left there (typed unknown).
  if (post.error) throw post.error as unknown;
  return model.getResponse(context, post.result);
}

/** The RPC value of a response: what `getResponse` put in `returnValue`, decoded the way the host reads typed data. */
export function returnedValue(response: CoreInvocationResponse): unknown {
  const value = response.returnValue;
  if (!value) return undefined;
  if (value.json !== undefined) return JSON.parse(value.json);
  if (value.string !== undefined) return value.string;
  if (value.bytes !== undefined) return Buffer.from(value.bytes);
  return value.int ?? value.double;
}
