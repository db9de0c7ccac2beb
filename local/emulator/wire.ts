/** The emulator's HTTP plumbing: JSON answers with Dataverse's OData headers, and JSON request bodies. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError } from './http-error';
import type { Json } from './metadata-serializer';

export function send(
  response: ServerResponse,
  status: number,
  body: Json | undefined,
  headers: Record<string, string> = {},
): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  response.writeHead(status, {
    'OData-Version': '4.0',
    ...(body === undefined ? {} : { 'Content-Type': 'application/json; odata.metadata=minimal' }),
    ...headers,
  });
  response.end(text);
}

export async function readBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return text === '' ? {} : JSON.parse(text);
  } catch {
    throw new HttpError(400, '0x80040203', 'The request body is not valid JSON.');
  }
}
