/**
 * A loopback Application Insights ingestion endpoint (the `IngestionEndpoint` of a connection string). It copies
 * the track API the Azure Monitor exporter posts to (`POST {endpoint}/v2.1/track`, a JSON array of envelopes,
 * answered `{itemsReceived, itemsAccepted, errors}`: https://learn.microsoft.com/azure/azure-monitor/app/api-custom-events-metrics
 * and the exporter's generated client in @azure/monitor-opentelemetry-exporter). It serves HTTPS with a throwaway
 * self-signed certificate, because the SDK refuses to send a bearer token over plain HTTP.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Envelope {
  name: string;
  iKey?: string;
  data?: {
    baseType?: string;
    baseData?: { metrics?: Array<{ name: string; value: number }>; properties?: Record<string, string> };
  };
}

export interface IngestionRequest {
  path: string;
  authorization: string | undefined;
  envelopes: Envelope[];
}

export interface IngestionEndpoint {
  /** `https://127.0.0.1:<port>/` */
  url: string;
  requests: IngestionRequest[];
  close(): Promise<void>;
}

export function selfSignedCertificate(): { key: Buffer; cert: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), 'ingestion-cert-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function startIngestionEndpoint(): Promise<IngestionEndpoint> {
  const requests: IngestionRequest[] = [];
  const server: Server = createServer(selfSignedCertificate(), (request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const path = new URL(request.url ?? '/', 'https://127.0.0.1').pathname;
      if (request.method !== 'POST' || !path.endsWith('/track')) {
        // Live metrics (QuickPulse) pings and anything else: accepted and not recorded.
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        return;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        response.writeHead(400).end();
        return;
      }
      const envelopes = Array.isArray(parsed) ? (parsed as Envelope[]) : [];
      requests.push({ path, authorization: request.headers.authorization, envelopes });
      response
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ itemsReceived: envelopes.length, itemsAccepted: envelopes.length, errors: [] }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}/`,
    requests,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
