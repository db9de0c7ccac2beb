/**
 * The worker-level orchestration callbacks of some orchestration definitions, for the driver's tests and callers
 * that have definitions rather than the app's captured registrations: each is registered through durable-functions'
 * own `df.app.orchestration` (which wraps the generator in its replay engine) and captured by the same
 * `@azure/functions-core` stand-in the local host uses (functions-core.ts).
 */
import * as df from 'durable-functions';
import type { OrchestrationFunction } from '../../functions/definition';
import type { WorkerOrchestration } from './durable-extension';
import { captureRegistrations } from './functions-core';
import { triggerBinding } from './invoke';

export async function workerOrchestrations(
  definitions: readonly OrchestrationFunction[],
): Promise<Map<string, WorkerOrchestration>> {
  const captured = await captureRegistrations(() => {
    for (const definition of definitions)
      df.app.orchestration(definition.name, definition.handler as unknown as df.OrchestrationHandler);
  });
  return new Map(
    captured
      .filter((fn) => triggerBinding(fn).type === 'orchestrationTrigger')
      .map((fn) => [fn.name, fn.callback as WorkerOrchestration]),
  );
}
