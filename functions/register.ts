/** Hands every definition of the function table to the Azure Functions programming model. */
import type { HttpFunctionOptions, ServiceBusQueueFunctionOptions, TimerFunctionOptions } from '@azure/functions';
import * as df from 'durable-functions';
import type { FunctionDefinition } from './definition';

/** App-setting prefix of the Service Bus connection (`ServiceBus__fullyQualifiedNamespace`, …). */
export const SERVICE_BUS_CONNECTION = 'ServiceBus';

/** The registration calls we make; `app` from @azure/functions satisfies it, and so does a test recorder. */
export interface AzureAppTarget {
  http(name: string, options: HttpFunctionOptions): void;
  timer(name: string, options: TimerFunctionOptions): void;
  serviceBusQueue(name: string, options: ServiceBusQueueFunctionOptions): void;
}

export interface DurableAppTarget {
  orchestration(name: string, handler: df.OrchestrationHandler): unknown;
  activity(name: string, options: df.ActivityOptions): unknown;
}

/**
 * The durable client input a handler that reaches the orchestration client needs: `df.getClient(context)` finds the
 * client only among the function's declared inputs (node_modules/durable-functions/lib/src/durableClient/getClient.js).
 * test/foundation/registrations.test.ts checks every handler that calls `deps.orchestrations` declares it.
 */
const durableClientInputs = (definition: { usesOrchestrations?: boolean }) =>
  definition.usesOrchestrations ? { extraInputs: [df.input.durableClient()] } : {};

export function registerFunctions<Deps>(
  definitions: readonly FunctionDefinition<Deps>[],
  getDeps: () => Promise<Deps>,
  target: { app: AzureAppTarget; durable: DurableAppTarget },
): void {
  // Dependencies are built on first use, not at import: a bad setting then fails the invocation with a
  // clear message instead of stopping the worker from indexing any function.
  for (const definition of definitions) {
    switch (definition.kind) {
      case 'http':
        target.app.http(definition.name, {
          route: definition.route,
          methods: definition.methods,
          authLevel: definition.authLevel,
          ...durableClientInputs(definition),
          handler: async (request, context) => definition.handler(await getDeps())(request, context),
        });
        break;
      case 'timer':
        target.app.timer(definition.name, {
          schedule: definition.schedule,
          ...durableClientInputs(definition),
          handler: async (timer, context) => definition.handler(await getDeps())(timer, context),
        });
        break;
      case 'queue':
        target.app.serviceBusQueue(definition.name, {
          connection: SERVICE_BUS_CONNECTION,
          queueName: definition.queueName,
          handler: async (message, context) => definition.handler(await getDeps())(message, context),
        });
        break;
      case 'orchestration':
        target.durable.orchestration(definition.name, definition.handler);
        break;
      case 'activity':
        target.durable.activity(definition.name, {
          handler: async (input, context) => definition.handler(await getDeps())(input, context),
        });
        break;
    }
  }
}
