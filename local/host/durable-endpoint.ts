/**
 * The Durable Functions extension's client side, locally: the data of a `durableClient` input binding, and the
 * loopback HTTP endpoint its `rpcBaseUrl` names. durable-functions v3 (node_modules/durable-functions/lib/src/
 * durableClient/DurableClient.js) sends every call to `rpcBaseUrl` when the binding data has one, as the
 * extension's binding data does in Azure; this endpoint answers the calls the product makes — start, status,
 * terminate — with the extension's routes and status codes (https://learn.microsoft.com/azure/azure-functions/
 * durable/durable-functions-http-api, and HttpApiHandler.cs in https://github.com/Azure/azure-functions-durable-extension), backed by the local orchestration driver.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { OrchestrationClient, OrchestrationStatus } from '../../shared/orchestration/client';
import type { HostLog } from './console-log';
import type { CoreTypedData } from './functions-core';

export const LOCAL_TASK_HUB = 'LocalTaskHub';

export interface DurableClientEndpoint {
  /** The binding data the extension gives a function that declares a `durableClient` input. */
  bindingData: CoreTypedData;
  close(): Promise<void>;
}

/** Still running: the extension answers 202 for these, 200 for a finished instance (HttpApiHandler.HandleGetStatusRequestAsync). */
const IN_PROGRESS = new Set(['Running', 'Pending', 'ContinuedAsNew']);

function statusBody(status: OrchestrationStatus): Record<string, unknown> {
  return {
    name: status.name,
    instanceId: status.instanceId,
    runtimeStatus: status.runtimeStatus,
    input: status.input ?? null,
    customStatus: status.customStatus ?? null,
    output: status.output ?? null,
    createdTime: status.createdTime.toISOString(),
    lastUpdatedTime: status.lastUpdatedTime.toISOString(),
  };
}

async function readText(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function send(response: ServerResponse, status: number, body?: unknown): void {
  response.writeHead(status, body === undefined ? {} : { 'content-type': 'application/json' });
  response.end(body === undefined ? undefined : JSON.stringify(body));
}

/** Answers one extension call; `path` is below `/durabletask/`. */
async function answer(
  client: OrchestrationClient,
  method: string,
  path: string[],
  url: URL,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const [resource, first, second] = path.map(decodeURIComponent);
  if (method === 'POST' && resource === 'orchestrators' && first && path.length <= 3) {
    const text = await readText(request);
    // DurableClient.startNew posts JSON.stringify(input), or an empty body for no input.
    const instanceId = await client.startNew(first, {
      instanceId: second ?? randomUUID().replaceAll('-', ''),
      input: text === '' ? undefined : JSON.parse(text),
    });
    send(response, 202, {
      id: instanceId,
      statusQueryGetUri: new URL(`instances/${encodeURIComponent(instanceId)}`, url).href,
    });
    return;
  }
  if (resource === 'instances' && first) {
    const status = await client.getStatus(first);
    if (method === 'GET' && path.length === 2) {
      if (!status) send(response, 404);
      else send(response, IN_PROGRESS.has(status.runtimeStatus) ? 202 : 200, statusBody(status));
      return;
    }
    if (method === 'POST' && second === 'terminate' && path.length === 3) {
      if (!status) send(response, 404);
      else if (!IN_PROGRESS.has(status.runtimeStatus)) send(response, 410);
      else {
        await client.terminate(first, url.searchParams.get('reason') ?? '');
        send(response, 202);
      }
      return;
    }
  }
  send(response, 404, { error: `The local Durable endpoint does not serve ${method} /durabletask/${path.join('/')}` });
}

export async function startDurableClientEndpoint(
  client: OrchestrationClient,
  log: HostLog,
): Promise<DurableClientEndpoint> {
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname.split('/').filter((part) => part !== '');
    const method = (request.method ?? 'GET').toUpperCase();
    const served =
      path[0] === 'durabletask'
        ? answer(client, method, path.slice(1), url, request, response)
        : Promise.resolve(send(response, 404));
    served.catch((error: unknown) => {
      // The extension answers a failed operation with 500 and its message; DurableClient turns that into an Error.
      log.error(`durable endpoint: ${method} ${url.pathname} failed`, error);
      if (!response.headersSent)
        send(response, 500, { message: error instanceof Error ? error.message : String(error) });
      else response.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const rpcBaseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/durabletask/`;
  // Only rpcBaseUrl is served; the webhook URLs are the shapes the extension gives (getClient checks they exist).
  const webhooks = `${rpcBaseUrl}webhooks`;
  const data = {
    taskHubName: LOCAL_TASK_HUB,
    creationUrls: { createNewInstancePostUri: `${webhooks}/orchestrators/{functionName}[/{instanceId}]` },
    managementUrls: {
      id: 'INSTANCEID',
      statusQueryGetUri: `${webhooks}/instances/INSTANCEID`,
      terminatePostUri: `${webhooks}/instances/INSTANCEID/terminate?reason={text}`,
    },
    baseUrl: webhooks,
    requiredQueryStringParameters: '',
    rpcBaseUrl,
  };
  return {
    bindingData: { string: JSON.stringify(data) },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
