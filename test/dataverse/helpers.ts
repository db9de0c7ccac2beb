/** Helpers for tests that run the real client against the emulator over HTTP. */
import { staticTokenSource } from '../../shared/dataverse/auth';
import type { ChangePage } from '../../shared/dataverse/changes';
import { DataverseClient } from '../../shared/dataverse/client';
import type { RetryPolicy } from '../../shared/dataverse/http';

export const TOKEN = 'test-token';

export const clientFor = (baseUrl: string, retry: Partial<RetryPolicy> = {}, token = TOKEN): DataverseClient =>
  new DataverseClient({ baseUrl, token: staticTokenSource(token), retry: { baseDelayMs: 5, ...retry } });

export async function collect(pages: AsyncIterable<ChangePage>): Promise<ChangePage[]> {
  const result: ChangePage[] = [];
  for await (const page of pages) result.push(page);
  return result;
}

/** A write through the Web API, as a test or demo would change data in a real org. */
export async function write(
  baseUrl: string,
  method: 'POST' | 'PATCH' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<Response> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${path} failed: ${response.status} ${await response.text()}`);
  return response;
}
