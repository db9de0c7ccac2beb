/**
 * An attacker's host on loopback: an http and an https listener (self-signed certificate from the openssl CLI)
 * that record every connection and every request, answer like a Dataverse Web API or a storage account would,
 * and can be told to loop (`@odata.nextLink` to itself), redirect, or throttle.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Seen {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export type Behaviour = 'dataverse' | 'loop' | 'redirect-away' | 'throttle-forever';

export interface AttackerHost {
  httpUrl: string;
  httpsUrl: string;
  /** TCP connections accepted (a refused TLS handshake still counts: something was sent our way). */
  connections: number;
  requests: Seen[];
  behaviour: Behaviour;
  /** Where `redirect-away` points. */
  redirectTo: string;
  close(): Promise<void>;
}

function selfSignedCertificate(): { key: Buffer; cert: Buffer } {
  const folder = mkdtempSync(join(tmpdir(), 'attacker-cert-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        join(folder, 'key.pem'),
        '-out',
        join(folder, 'cert.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    return { key: readFileSync(join(folder, 'key.pem')), cert: readFileSync(join(folder, 'cert.pem')) };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

const listen = (server: Server): Promise<number> =>
  new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));

export async function startAttackerHost(): Promise<AttackerHost> {
  const host = {
    connections: 0,
    requests: [] as Seen[],
    behaviour: 'dataverse',
    redirectTo: '',
  } as AttackerHost;
  const answer = (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      host.requests.push({
        method: request.method ?? '',
        url: request.url ?? '',
        headers: { ...request.headers },
        body: Buffer.concat(chunks).toString('utf8'),
      });
      const self = `http://${request.headers.host ?? ''}${request.url ?? ''}`;
      if (host.behaviour === 'redirect-away') {
        response.writeHead(302, { location: host.redirectTo }).end();
      } else if (host.behaviour === 'throttle-forever') {
        response
          .writeHead(429, { 'retry-after': '99999', 'content-type': 'application/json' })
          .end('{"error":{"code":"0x80072322","message":"attacker says wait"}}');
      } else if (host.behaviour === 'loop') {
        response
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ value: [], '@odata.nextLink': self }));
      } else {
        // A body no Dataverse sends: it must never reach a caller as data or as an error message.
        response
          .writeHead(403, { 'content-type': 'application/json' })
          .end('{"error":{"code":"ATTACKER","message":"attacker-body-echo"}}');
      }
    });
  };
  const plain = createHttpServer(answer);
  const tls = createHttpsServer(selfSignedCertificate(), answer);
  for (const server of [plain, tls]) server.on('connection', () => (host.connections += 1));
  host.httpUrl = `http://127.0.0.1:${await listen(plain)}`;
  host.httpsUrl = `https://127.0.0.1:${await listen(tls)}`;
  host.close = async () => {
    for (const server of [plain, tls]) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  };
  return host;
}

/** Every header and body the host received, as one text to search for secrets. */
export const everythingSeen = (host: AttackerHost): string => JSON.stringify(host.requests);
