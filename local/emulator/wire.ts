/** The emulator's HTTP plumbing: JSON answers with Dataverse's OData headers, and JSON request bodies. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError } from './http-error';
import type { Json, JsonObject } from './metadata-serializer';

export function send(
  response: ServerResponse,
  status: number,
  body: Json | undefined,
  headers: Record<string, string> = {},
): void {
  sendJsonText(response, status, body === undefined ? undefined : JSON.stringify(body), headers);
}

/** `send` for a body already written as JSON text (rows are: local/sample-org/webapi.ts, toWebApiRowJson). */
export function sendJsonText(
  response: ServerResponse,
  status: number,
  text: string | undefined,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, {
    'OData-Version': '4.0',
    ...(text === undefined ? {} : { 'Content-Type': 'application/json; odata.metadata=minimal' }),
    ...headers,
  });
  response.end(text ?? '');
}

/** The JSON text of `{...head, value: [rows], ...tail}` whose rows are JSON texts already: JSON.stringify's bytes. */
export function pageText(head: JsonObject, rows: readonly string[], tail: JsonObject = {}): string {
  const members = JSON.stringify(head).slice(1, -1);
  let text = `{${members}${members === '' ? '' : ','}"value":[${rows.join(',')}]`;
  for (const [key, value] of Object.entries(tail)) text += `,${JSON.stringify(key)}:${JSON.stringify(value)}`;
  return `${text}}`;
}

/** The JSON text of `{...head, ...row}` for a row that is JSON text already (a single row with its context). */
export function withMembers(head: JsonObject, row: string): string {
  const members = JSON.stringify(head).slice(1, -1);
  const rest = row.slice(1);
  return members === '' ? row : `{${members}${rest === '}' ? '' : ','}${rest}`;
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
