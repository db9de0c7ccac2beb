/**
 * Serves the app's HTTP-triggered functions on node:http under `/api`, from their registered trigger bindings
 * (route, methods, authLevel), with function keys checked as Azure does (`code` query parameter or
 * `x-functions-key` header; `admin` needs the master key). Each request goes to the function as RpcHttpData and
 * the answer comes back from the invocation response's `http` return value, as between the host and the worker.
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AuthLevel } from '../../functions/definition';
import { ExportError } from '../../shared/errors';
import type { HostLog } from './console-log';
import type { CapturedFunction, CoreInvocationResponse, CoreTypedData } from './functions-core';
import { triggerBinding, type TriggerInput } from './invoke';
import { compileRoute, type RouteMatcher } from './routes';
import { httpTrigger } from './trigger-data';

export interface FunctionKeys {
  /** Accepted for `function` routes. */
  functionKey: string;
  /** Accepted for `function` and `admin` routes. */
  masterKey: string;
}

interface Route {
  fn: CapturedFunction;
  methods: string[];
  authLevel: AuthLevel;
  match: RouteMatcher;
}

/** The route of an HTTP trigger binding; the host's defaults when a property is absent (route: the function name). */
function routeOf(fn: CapturedFunction): Route {
  const trigger = triggerBinding(fn);
  const route = typeof trigger.route === 'string' ? trigger.route : fn.name;
  const methods = Array.isArray(trigger.methods)
    ? (trigger.methods as string[]).map((method) => method.toUpperCase())
    : ['GET', 'POST'];
  return {
    fn,
    methods,
    authLevel: (trigger.authLevel as AuthLevel | undefined) ?? 'function',
    match: compileRoute(route),
  };
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

export async function startHttpServer(options: {
  functions: readonly CapturedFunction[];
  invoke(fn: CapturedFunction, trigger: TriggerInput): Promise<CoreInvocationResponse>;
  keys: FunctionKeys;
  port: number;
  log: HostLog;
}): Promise<RunningHttpServer> {
  const routes = options.functions.map(routeOf);
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
    if (!isAuthorized(found.route.authLevel, given, options.keys)) {
      // Azure answers a missing or wrong key with a bare 401.
      response.writeHead(401);
      response.end();
      return;
    }
    const trigger = httpTrigger({
      method,
      url: url.toString(),
      headers: Object.fromEntries(
        Object.entries(request.headers).map(([name, value]) => [
          name,
          Array.isArray(value) ? value.join(', ') : (value ?? ''),
        ]),
      ),
      query: Object.fromEntries(url.searchParams),
      params: found.params,
      body: await readBody(request),
    });
    let answer: CoreInvocationResponse;
    try {
      answer = await options.invoke(found.route.fn, trigger);
    } catch (error) {
      options.log.handlerFor(found.route.fn.name)('error', 'unhandled error', error);
      sendJson(response, 500, { error: 'The function failed; see the host log for details.' });
      return;
    }
    const http = answer.returnValue?.http as RpcHttpResponse | undefined;
    if (http?.cookies && http.cookies.length > 0) {
      throw new ExportError(
        'config',
        `Function '${found.route.fn.name}' set cookies; the local host does not send them`,
        { where: found.route.fn.name },
      );
    }
    response.writeHead(Number(http?.statusCode ?? 200), http?.headers ?? {});
    response.end(bodyBytes(http?.body));
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

/** The `http` return value `@azure/functions` builds (converters/toRpcHttp.ts). */
interface RpcHttpResponse {
  statusCode?: string;
  headers?: Record<string, string>;
  cookies?: unknown[];
  body?: CoreTypedData | null;
}

function bodyBytes(body: CoreTypedData | null | undefined): Buffer {
  if (!body) return Buffer.alloc(0);
  if (body.bytes !== undefined) return Buffer.from(body.bytes);
  return Buffer.from(body.string ?? '');
}

function findRoute(routes: Route[], path: string, method: string) {
  for (const route of routes) {
    if (!route.methods.includes(method)) continue;
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
