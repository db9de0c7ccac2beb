/**
 * A Dataverse stand-in over real HTTP (node:http) that answers every request with the response a test sets:
 * the client's whole path — fetch, status handling, body parsing, zod — runs as against Dataverse.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CannedResponse {
  status: number;
  contentType: string;
  body: string;
}

export interface CannedDataverse {
  /** The Web API root, `http://127.0.0.1:<port>/api/data/v9.2/`. */
  baseUrl: string;
  /** Every later request is answered with this (a function decides per request path). */
  answer(response: CannedResponse | ((path: string) => CannedResponse)): void;
  close(): Promise<void>;
}

export async function startCannedDataverse(): Promise<CannedDataverse> {
  let current: (path: string) => CannedResponse = () => ({ status: 404, contentType: 'text/plain', body: 'nothing set' });
  const server = createServer((request, response) => {
    const canned = current(request.url ?? '/');
    response.writeHead(canned.status, { 'content-type': canned.contentType });
    response.end(canned.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/api/data/v9.2/`,
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
