/** How the Dataverse client names a request in errors, and how it reads Dataverse's error answers into ExportError classes. */
import { ExportError } from '../errors';
import { decodeOrKeep } from '../percent-encoding';
import { errorBodySchema, type ErrorBody } from './responses';

/** `ExpiredVersionStamp`: the change-tracking token is older than the org keeps changes. */
export const EXPIRED_VERSION_STAMP = '0x80044352';

/** Path and query of a URL, for error locations: never the token, which only travels in a header. */
export const describe = (url: string): string => {
  const parsed = new URL(url);
  // A link from a response can be anything, valid percent-encoding or not.
  return decodeOrKeep(parsed.pathname + parsed.search);
};

export function readErrorBody(text: string): ErrorBody | undefined {
  try {
    const parsed = errorBodySchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export function exhausted(
  url: string,
  status: number,
  body: ErrorBody | undefined,
  retryAfterMs: number,
  attempts: number,
): ExportError {
  const detail = body ? ` (${body.error.code}: ${body.error.message})` : '';
  const throttled = status === 429 || status === 503;
  return new ExportError(
    throttled ? 'throttled' : 'transient',
    `Dataverse answered ${status} to ${describe(url)} ${attempts} time(s)${detail}`,
    {
      where: describe(url),
      retryAfterMs,
      fix: throttled
        ? 'Dataverse service protection limits were hit; retry later or lower the per-org concurrency.'
        : undefined,
    },
  );
}

export function failure(url: string, status: number, body: ErrorBody | undefined): ExportError {
  const where = describe(url);
  const detail = body ? `${body.error.code}: ${body.error.message}` : `HTTP ${status}`;
  if (body?.error.code === EXPIRED_VERSION_STAMP || status === 410) {
    return new ExportError('expired-token', `The change-tracking token has expired (${detail})`, {
      where,
      fix: 'Discard the delta link and re-baseline the table with a full initial load.',
    });
  }
  if (status === 401) {
    return new ExportError('config', `Dataverse rejected the access token (${detail})`, {
      where,
      fix: 'Check the tenant, client id and secret (or managed identity), and that the token scope is the environment URL + "/.default".',
    });
  }
  if (status === 403) {
    return new ExportError('config', `Dataverse refused access (${detail})`, {
      where,
      fix: 'The app registration is not an application user in this environment, or its security role lacks organization-level read on this table. Add it under Power Platform admin center → Environment → Settings → Application users.',
    });
  }
  return new ExportError('schema', `Dataverse rejected ${where} (${detail})`, {
    where,
    fix: 'Check that the table and columns exist in this environment; metadata may have changed since it was read.',
  });
}
