/**
 * Two response headers Dataverse sends on every answer that matter to a parallel client: `x-ms-dop-hint`, the
 * degree of parallelism it suggests (learn.microsoft.com/power-apps/developer/data-platform/send-parallel-requests),
 * and the `ARRAffinity` cookie that pins a client to one web server, which a parallel client should not send back
 * (learn.microsoft.com/power-apps/developer/data-platform/api-limits#remove-the-affinity-cookie). Dataverse accepts
 * requests carrying the cookie, so the emulator does too; it only counts them so tests can see a client sends none.
 */
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';

/** A fixed value: what matters is whether it comes back, not which server it names. */
const AFFINITY_COOKIE = 'ARRAffinity=5b1ac1a7e5f0f0c1b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b';

/** Sets both headers on `response`; true when the request carried the affinity cookie back. */
export function sendsAffinityCookie(headers: IncomingHttpHeaders, response: ServerResponse, dopHint: number): boolean {
  response.setHeader('x-ms-dop-hint', String(dopHint));
  response.setHeader('Set-Cookie', `${AFFINITY_COOKIE}; path=/; secure; HttpOnly`);
  return /(?:^|;\s*)ARRAffinity=/.test(headers.cookie ?? '');
}
