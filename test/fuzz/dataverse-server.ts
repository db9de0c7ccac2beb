/**
 * A Dataverse stand-in over real HTTP (node:http) that answers requests with the response a test sets: the
 * client's whole path — fetch, status handling, body parsing, zod — runs as against Dataverse. With an
 * upstream (the emulator), requests the test does not answer are passed through, so one table can break
 * while metadata and the other requests stay real.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CannedResponse {
  status: number;
  contentType: string;
  body: string;
}

export interface CannedDataverse {
  /** The Web API root, `http://127.0.0.1:<port>/api/data/v9.2/`. */
  baseUrl: string;
  /** Every later request is answered with this (a function decides per request path; undefined passes it upstream). */
  answer(response: CannedResponse | ((path: string) => CannedResponse | undefined)): void;
  close(): Promise<void>;
}

export async function startCannedDataverse(upstream?: string): Promise<CannedDataverse> {
  let current: (path: string) => CannedResponse | undefined = () => undefined;
  let ownOrigin = '';
  const passThrough = async (path: string, headers: IncomingHttpHeaders): Promise<CannedResponse> => {
    if (upstream === undefined) return { status: 404, contentType: 'text/plain', body: 'nothing set' };
    const forwarded = Object.fromEntries(
      ['authorization', 'prefer', 'accept'].flatMap((name) =>
        typeof headers[name] === 'string' ? [[name, headers[name]]] : [],
      ),
    );
    const response = await fetch(new URL(path, upstream), { headers: forwarded });
    // As a reverse proxy does: links in the body point back through this server.
    const body = (await response.text()).replaceAll(new URL(upstream).origin, ownOrigin);
    return { status: response.status, contentType: response.headers.get('content-type') ?? 'application/json', body };
  };
  const server = createServer((request, response) => {
    const path = request.url ?? '/';
    const canned = current(path);
    void (canned ? Promise.resolve(canned) : passThrough(path, request.headers)).then((answer) => {
      response.writeHead(answer.status, { 'content-type': answer.contentType });
      response.end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  ownOrigin = `http://127.0.0.1:${port}`;
  return {
    baseUrl: `${ownOrigin}/api/data/v9.2/`,
    answer: (response) => {
      current = typeof response === 'function' ? response : () => response;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
