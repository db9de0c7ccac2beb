/**
 * The trigger data the Functions host sends the worker, per trigger type, in RPC typed data — what
 * `@azure/functions` converts into handler arguments (node_modules/@azure/functions/src/InvocationModel.ts,
 * converters/fromRpcTypedData.ts, fromRpcTriggerMetadata.ts).
 */
import type { CoreTypedData } from './functions-core';
import type { TriggerInput } from './invoke';

/** An HTTP request as RpcHttpData: `@azure/functions` builds its HttpRequest from exactly these fields. */
export function httpTrigger(request: {
  method: string;
  url: string;
  headers: Record<string, string>;
  query: Record<string, string>;
  params: Record<string, string>;
  body: Uint8Array;
}): TriggerInput {
  return {
    data: {
      http: {
        method: request.method,
        url: request.url,
        headers: request.headers,
        query: request.query,
        params: request.params,
        ...(request.body.length > 0 ? { body: { bytes: request.body } } : {}),
      },
    },
  };
}

/** The host's TimerInfo JSON (PascalCase; the library camel-cases timer input). */
export function timerTrigger(timer: { last: Date; next: Date; lastUpdated: Date; isPastDue: boolean }): TriggerInput {
  const info = {
    Schedule: { AdjustForDST: true },
    ScheduleStatus: {
      Last: timer.last.toISOString(),
      Next: timer.next.toISOString(),
      LastUpdated: timer.lastUpdated.toISOString(),
    },
    IsPastDue: timer.isPastDue,
  };
  return { data: { json: JSON.stringify(info) } };
}

/**
 * A Service Bus message: its body as text (the library parses JSON text as the host's string data) and the
 * message properties the Service Bus extension puts in the trigger metadata, PascalCase as it sends them.
 */
export function serviceBusTrigger(message: {
  body: string;
  deliveryCount: number;
  messageId: string;
  enqueuedTimeUtc: Date;
}): TriggerInput {
  const metadata: Record<string, CoreTypedData> = {
    DeliveryCount: { int: message.deliveryCount },
    MessageId: { string: message.messageId },
    EnqueuedTimeUtc: { string: message.enqueuedTimeUtc.toISOString() },
  };
  return { data: { string: message.body }, metadata };
}

/** An activity's input as the Durable extension passes it: JSON. */
export function activityTrigger(input: unknown): TriggerInput {
  return { data: { json: JSON.stringify(input ?? null) } };
}

/** An orchestration's trigger as the Durable extension passes it: the history payload, JSON (durable-extension.ts builds it). */
export function orchestrationTrigger(payload: unknown): TriggerInput {
  return { data: { json: JSON.stringify(payload) } };
}
