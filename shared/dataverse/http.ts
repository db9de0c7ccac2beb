/**
 * The HTTP edge of the Dataverse client: bearer token, OData headers, a per-org concurrency limit,
 * bounded retries for throttling and transient failures, and the mapping of Dataverse error bodies
 * to ExportError classes. Every response body is validated with zod before it leaves this module.
 */
import pLimit from 'p-limit';
import { z } from 'zod';
import { ExportError } from '../errors';
import type { AccessTokenSource } from './auth';
import { describe, exhausted, failure, readErrorBody } from './http-errors';

export { EXPIRED_VERSION_STAMP } from './http-errors';

export interface RetryPolicy {
  /** Attempts per request, the first one included. */
  maxAttempts: number;
  /** Backoff base when the server sends no `Retry-After`: attempt n waits up to base·2ⁿ (full jitter). */
  baseDelayMs: number;
  /** Longest single wait; a `Retry-After` beyond it is handed to the caller as a throttled error instead. */
  maxDelayMs: number;
  /** An attempt that has not finished reading its response by then is abandoned and retried. */
  requestTimeoutMs: number;
}

/** Dataverse ends requests itself after 2 minutes; waiting longer than that means the connection is gone. */
export const defaultRetryPolicy: RetryPolicy = {
  maxAttempts: 8,
  baseDelayMs: 500,
  maxDelayMs: 60_000,
  requestTimeoutMs: 130_000,
};

/** Dataverse allows 52 concurrent requests per user; staying well under leaves room for other clients. */
export const DEFAULT_CONCURRENCY = 8;

export interface DataverseHttpOptions {
  /** `https://<org>.crm.dynamics.com/api/data/v9.2/` (trailing slash optional). */
  baseUrl: string;
  token: AccessTokenSource;
  /** Concurrent requests to this org from this process, shared by every client of the same org. */
  concurrency?: number;
  retry?: Partial<RetryPolicy>;
}

export interface RequestOptions {
  /** `Prefer` preferences, sent as one comma list. */
  prefer?: string[];
  /** Return undefined for 404 instead of failing (reading rows that may have been deleted). */
  allowNotFound?: boolean;
}

const limiters = new Map<string, ReturnType<typeof pLimit>>();

function limiterFor(origin: string, concurrency: number): ReturnType<typeof pLimit> {
  const key = `${origin}#${concurrency}`;
  let limiter = limiters.get(key);
  if (!limiter) {
    limiter = pLimit(concurrency);
    limiters.set(key, limiter);
  }
  return limiter;
}

/** Same-origin redirects followed per request (fetch's own limit is 20; Dataverse itself does not redirect the Web API). */
const MAX_REDIRECTS = 5;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** `Retry-After` as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(header: string | null, now = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Full-jitter exponential backoff (AWS architecture blog): spreads retries of many callers apart. */
export const backoffDelayMs = (attempt: number, policy: RetryPolicy, random = Math.random): number =>
  Math.floor(random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt));

/**
 * A response read to the end, a successful one by the caller's reader: Dataverse counts a request as concurrent
 * until its body is sent, so the body is read while the request holds its place in the concurrency limit.
 */
type ReadResponse<T> =
  { succeeded: true; value: T } | { succeeded: false; status: number; retryAfter: string | null; text: string };

/** What a streaming reader threw: final, since it may have handed part of the body on already. */
class StreamReadFailure extends Error {
  constructor(override readonly cause: unknown) {
    super('StreamReadFailure');
  }
}

async function* noBody(): AsyncGenerator<Uint8Array> {}

const readText = (response: Response): Promise<string> => response.text();

const readBytes = async (response: Response): Promise<Uint8Array> => new Uint8Array(await response.arrayBuffer());

/** A response body checked as JSON of `schema`; `where` names the request in the errors. */
export function parseBody<Schema extends z.ZodType>(text: string, schema: Schema, where: string): z.infer<Schema> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new ExportError('schema', `Dataverse returned a body that is not JSON for ${where}`, { cause, where });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new ExportError(
      'schema',
      `Dataverse response for ${where} does not have the expected shape: ${z.prettifyError(parsed.error)}`,
      {
        where,
        fix: 'The Web API returned a shape this client does not know; capture the response and extend shared/dataverse/responses.ts.',
      },
    );
  }
  return parsed.data;
}

const retryableStatus = (status: number): boolean =>
  status === 429 || status === 503 || status === 500 || status === 502 || status === 504;

export class DataverseHttp {
  readonly baseUrl: string;
  private readonly token: AccessTokenSource;
  private readonly limit: ReturnType<typeof pLimit>;
  private readonly retry: RetryPolicy;
  /**
   * The last `x-ms-dop-hint` Dataverse answered: the parallelism it suggests for this org
   * (learn.microsoft.com/power-apps/developer/data-platform/send-parallel-requests). fetch keeps no cookie jar,
   * so the `ARRAffinity` cookie is never sent back, as that page recommends for parallel clients.
   */
  dopHint: number | undefined;

  constructor(options: DataverseHttpOptions) {
    this.baseUrl = options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`;
    this.token = options.token;
    this.retry = { ...defaultRetryPolicy, ...options.retry };
    this.limit = limiterFor(new URL(this.baseUrl).origin, options.concurrency ?? DEFAULT_CONCURRENCY);
  }

  /**
   * An absolute URL for a path relative to the Web API root. Absolute links (nextLink, deltaLink) pass
   * through verbatim, but only to this org: a persisted link pointing elsewhere would carry our token there.
   */
  url(pathOrUrl: string): string {
    if (!/^https?:\/\//i.test(pathOrUrl)) return `${this.baseUrl}${pathOrUrl}`;
    const origin = URL.parse(pathOrUrl)?.origin;
    if (origin === undefined) {
      throw new ExportError(
        'config',
        `Refusing to follow a link that is not a URL: ${JSON.stringify(pathOrUrl.slice(0, 200))}`,
        {
          where: new URL(this.baseUrl).origin,
          fix: 'The persisted nextLink/deltaLink is damaged; re-baseline the table.',
        },
      );
    }
    if (origin !== new URL(this.baseUrl).origin) {
      throw new ExportError('config', `Refusing to follow a link to ${origin}: it is not this environment`, {
        where: new URL(this.baseUrl).origin,
        fix: 'The persisted nextLink/deltaLink belongs to another environment; re-baseline the table or fix the environment URL.',
      });
    }
    return pathOrUrl;
  }

  /**
   * A nextLink or deltaLink as a response gave it, checked before anyone persists or follows it: an absolute
   * URL of this environment. Returned verbatim, since links are opaque.
   */
  responseLink(link: string, where: string): string {
    const origin = URL.parse(link)?.origin;
    if (origin !== new URL(this.baseUrl).origin) {
      throw new ExportError(
        'schema',
        `Dataverse returned a link that is not a URL of this environment: ${JSON.stringify(link.slice(0, 200))}`,
        {
          where,
          fix: 'Capture the response; a proxy or gateway between this app and Dataverse may be rewriting it.',
        },
      );
    }
    return link;
  }

  async get<Schema extends z.ZodType>(
    pathOrUrl: string,
    schema: Schema,
    options: RequestOptions = {},
  ): Promise<z.infer<Schema> | undefined> {
    const url = this.url(pathOrUrl);
    const text = await this.send(url, options, readText);
    return text === undefined ? undefined : parseBody(text, schema, describe(url));
  }

  /**
   * A successful response's body as bytes, read and retried as `get` reads text (undefined for an allowed 404):
   * for a caller that holds the body a while before it parses it (`parseBody`).
   */
  async getBytes(pathOrUrl: string, options: RequestOptions = {}): Promise<Uint8Array | undefined> {
    return this.send(this.url(pathOrUrl), options, readBytes);
  }

  /**
   * A successful response's body handed to `read` as it arrives (`where` names the request for errors). Throttling
   * and failures before the body starts are retried as for `get`; what `read` throws is final, because it may
   * have handed part of the body on already (the caller repeats the whole request if it wants to). The request
   * timeout covers the whole body, `read`'s own work on it included.
   */
  async stream<T>(
    pathOrUrl: string,
    read: (body: AsyncIterable<Uint8Array>, where: string) => Promise<T>,
    options: Omit<RequestOptions, 'allowNotFound'> = {},
  ): Promise<T> {
    const url = this.url(pathOrUrl);
    const value = await this.send(url, options, async (response) => {
      try {
        return await read(response.body ?? noBody(), describe(url));
      } catch (cause) {
        throw new StreamReadFailure(cause);
      }
    });
    return value as T;
  }

  /** The body of a successful response as `readBody` reads it; undefined for an allowed 404. */
  private async send<T>(
    url: string,
    options: RequestOptions,
    readBody: (response: Response) => Promise<T>,
  ): Promise<T | undefined> {
    for (let attempt = 0; ; attempt++) {
      const last = attempt + 1 >= this.retry.maxAttempts;
      let response: ReadResponse<T>;
      try {
        response = await this.limit(() => this.fetchOnce(url, options, readBody));
      } catch (cause) {
        if (cause instanceof StreamReadFailure) throw cause.cause;
        if (cause instanceof ExportError) throw cause;
        if (last)
          throw new ExportError('transient', `Dataverse did not answer ${describe(url)}: ${String(cause)}`, {
            cause,
            where: describe(url),
          });
        await sleep(backoffDelayMs(attempt, this.retry));
        continue;
      }
      if (response.succeeded) return response.value;
      if (response.status === 404 && options.allowNotFound) return undefined;
      if (retryableStatus(response.status)) {
        const retryAfterMs = parseRetryAfter(response.retryAfter);
        const delayMs = retryAfterMs ?? backoffDelayMs(attempt, this.retry);
        const body = readErrorBody(response.text);
        if (last || delayMs > this.retry.maxDelayMs)
          throw exhausted(url, response.status, body, retryAfterMs ?? delayMs, attempt + 1);
        await sleep(delayMs);
        continue;
      }
      throw failure(url, response.status, readErrorBody(response.text));
    }
  }

  /**
   * One request. Redirects are followed by hand and only within the environment's origin: fetch's own
   * following would send the body of a foreign host back as Dataverse data (fetch drops the Authorization
   * header across origins, https://fetch.spec.whatwg.org/#http-redirect-fetch, but not the trust in the answer).
   */
  private async fetchOnce<T>(
    url: string,
    options: RequestOptions,
    readBody: (response: Response) => Promise<T>,
  ): Promise<ReadResponse<T>> {
    const headers: Record<string, string> = {
      Authorization: `Bearer ${await this.token.getToken()}`,
      Accept: 'application/json',
      'OData-MaxVersion': '4.0',
      'OData-Version': '4.0',
    };
    if (options.prefer && options.prefer.length > 0) headers.Prefer = options.prefer.join(',');
    const origin = new URL(this.baseUrl).origin;
    let target = url;
    for (let redirects = 0; ; redirects++) {
      const response = await fetch(target, {
        headers,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.retry.requestTimeoutMs),
      });
      const locationHeader = response.headers.get('location');
      // As fetch does: a 3xx without Location is no redirect but the answer (https://fetch.spec.whatwg.org/#http-fetch step 8).
      if (response.status < 300 || response.status >= 400 || response.status === 304 || locationHeader === null) {
        const dopHint = Number(response.headers.get('x-ms-dop-hint') ?? Number.NaN);
        if (Number.isSafeInteger(dopHint) && dopHint > 0) this.dopHint = dopHint;
        if (response.status >= 200 && response.status < 300)
          return { succeeded: true, value: await readBody(response) };
        return {
          succeeded: false,
          status: response.status,
          retryAfter: response.headers.get('retry-after'),
          text: await response.text(),
        };
      }
      await response.body?.cancel();
      const location = URL.parse(locationHeader, target);
      if (location === null || location.origin !== origin || redirects >= MAX_REDIRECTS) {
        const why =
          location === null
            ? 'to a Location that is no URL'
            : location.origin !== origin
              ? `to ${location.origin}, another origin`
              : `more than ${MAX_REDIRECTS} times`;
        throw new ExportError('config', `Dataverse redirected ${describe(target)} ${why}; not followed`, {
          where: describe(target),
          fix: 'Check the environment URL: use the Web API URL the environment itself shows (Power Apps → Settings → Developer resources).',
        });
      }
      target = location.toString();
    }
  }
}
