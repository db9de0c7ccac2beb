/**
 * Serves the HTTP functions of the table on node:http under `/api`, with function keys checked as Azure
 * does (`code` query parameter or `x-functions-key` header; `admin` needs the master key).
 */
import { HttpRequest, HttpResponse, InvocationContext, type HttpResponseInit } from '@azure/functions';
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AuthLevel, HttpFunction } from '../../functions/definition';
import type { HostLog } from './console-log';
import { compileRoute, type RouteMatcher } from './routes';

export interface FunctionKeys {
  /** Accepted for `function` routes. */
  functionKey: string;
  /** Accepted for `function` and `admin` routes. */
  masterKey: string;
}

interface Route<Deps> {
  definition: HttpFunction<Deps>;
  match: RouteMatcher;
}

export interface RunningHttpServer {
  port: number;
  baseUrl: string;
  close(): Promise<void>;
}

const sameSecret = (given: string, expected: string): boolean => {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
};

function isAuthorized(level: AuthLevel, given: string | undefined, keys: FunctionKeys): boolean {
  if (level === 'anonymous') return true;
  if (given === undefined) return false;
  if (sameSecret(given, keys.masterKey)) return true;
  return level === 'function' && sameSecret(given, keys.functionKey);
}

export async function startHttpServer<Deps>(options: {
  definitions: readonly HttpFunction<Deps>[];
  deps: Deps;
  keys: FunctionKeys;
  port: number;
  log: HostLog;
}): Promise<RunningHttpServer> {
  const routes: Array<Route<Deps>> = options.definitions.map((definition) => ({
    definition,
    match: compileRoute(definition.route),
  }));
  const server: Server = createServer((request, response) => {
    serve(request, response).catch((error: unknown) => {
      options.log.error('request failed before reaching a function', error);
      if (!response.headersSent) response.writeHead(500);
      response.end();
    });
  });

  async function serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', `http://${request.headers.host ?? '127.0.0.1'}`);
    const method = (request.method ?? 'GET').toUpperCase();
    const path = url.pathname.startsWith('/api/') ? url.pathname.slice('/api/'.length) : undefined;
    const found = path === undefined ? undefined : findRoute(routes, path, method);
    if (!found) {
      sendJson(response, 404, { error: `No function serves ${method} ${url.pathname}` });
      return;
    }
    const given = url.searchParams.get('code') ?? headerValue(request, 'x-functions-key');
    if (!isAuthorized(found.route.definition.authLevel, given, options.keys)) {
      // Azure answers a missing or wrong key with a bare 401.
      response.writeHead(401);
      response.end();
      return;
    }
    const body = await readBody(request);
    const httpRequest = new HttpRequest({
      method,
      url: url.toString(),
      headers: Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(', ') : (value ?? '')])),
      query: Object.fromEntries(url.searchParams),
      params: found.params,
      ...(body.length > 0 ? { body: { bytes: body } } : {}),
    });
    const context = new InvocationContext({
      invocationId: randomUUID(),
      functionName: found.route.definition.name,
      logHandler: options.log.handlerFor(found.route.definition.name),
    });
    let result: HttpResponseInit | HttpResponse | void;
    try {
      result = await found.route.definition.handler(options.deps)(httpRequest, context);
    } catch (error) {
      context.error('unhandled error', error);
      sendJson(response, 500, { error: 'The function failed; see the host log for details.' });
      return;
    }
    const httpResponse = result instanceof HttpResponse ? result : new HttpResponse(result ?? {});
    const payload = Buffer.from(await httpResponse.arrayBuffer());
    response.writeHead(httpResponse.status, Object.fromEntries(httpResponse.headers));
    response.end(payload);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    baseUrl: `http://127.0.0.1:${port}/api`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function findRoute<Deps>(routes: Array<Route<Deps>>, path: string, method: string) {
  for (const route of routes) {
    if (!route.definition.methods.includes(method as HttpFunction<Deps>['methods'][number])) continue;
    const params = route.match(path);
    if (params) return { route, params };
  }
  return undefined;
}

function headerValue(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

async function readBody(request: IncomingMessage): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}
