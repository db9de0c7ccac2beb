/**
 * The worker-level orchestration callbacks, obtained the way the Functions host gets them: each orchestration
 * is registered through durable-functions' own `df.app.orchestration`, which wraps the generator in its
 * replay engine (createOrchestrator) and hands the result to `@azure/functions`' `app.generic` with an
 * orchestrationTrigger (durable-functions lib/src/app.js). `app.generic` is swapped for a recorder only
 * while registering, so nothing reaches a Functions runtime that is not there.
 */
import { app, type GenericFunctionOptions } from '@azure/functions';
import * as df from 'durable-functions';
import type { OrchestrationFunction } from '../../functions/definition';
import type { WorkerOrchestration } from './durable-extension';

type Generic = (name: string, options: GenericFunctionOptions) => void;

export function workerOrchestrations(definitions: readonly OrchestrationFunction[]): Map<string, WorkerOrchestration> {
  const captured = new Map<string, WorkerOrchestration>();
  const target = app as unknown as { generic: Generic };
  const original = target.generic;
  target.generic = (name, options) => {
    if (options.trigger.type === 'orchestrationTrigger') captured.set(name, options.handler as WorkerOrchestration);
  };
  try {
    for (const definition of definitions) df.app.orchestration(definition.name, definition.handler as unknown as df.OrchestrationHandler);
  } finally {
    target.generic = original;
  }
  return captured;
}
