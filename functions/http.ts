/** The HTTP edge's shared mapping: JSON bodies in, errors out as JSON a person can act on, never a secret. */
import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { z } from 'zod';
import { ExportError, toExportError, type ErrorClass } from '../shared/errors';
import { fieldPath, type ProfileProblem } from '../shared/profile/profile';
import { WriteConflict } from '../shared/storage/errors';
import { redactor } from '../shared/telemetry/redaction';

const statusFor: Record<ErrorClass, number> = {
  config: 400,
  data: 400,
  schema: 422,
  'expired-token': 409,
  transient: 503,
  throttled: 503,
};

export const json = (status: number, body: unknown, headers: Record<string, string> = {}): HttpResponseInit => ({
  status,
  jsonBody: body,
  headers: { 'cache-control': 'no-store', ...headers },
});

export function problems(status: number, message: string, list: ProfileProblem[]): HttpResponseInit {
  return json(status, {
    error: {
      message: redactor.redact(message),
      problems: list.map((p) => ({ field: p.field, reason: redactor.redact(p.reason) })),
    },
  });
}

export const notFound = (what: string): HttpResponseInit => json(404, { error: { message: `${what} does not exist` } });

/** Any failure as a JSON error: ExportErrors with their class, message, where and fix; anything else as a bare 500. */
export function errorResponse(error: unknown, context: InvocationContext): HttpResponseInit {
  if (error instanceof WriteConflict) {
    return json(412, {
      error: { message: redactor.redact(error.message), fix: 'Read it again and retry with the new ETag.' },
    });
  }
  if (!(error instanceof ExportError)) {
    context.error(
      redactor.redact(`unhandled error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`),
    );
    return json(500, { error: { message: 'The function failed; the host log has the details.' } });
  }
  const failure = toExportError(error);
  context.warn(redactor.redact(`${failure.errorClass}: ${failure.message}`));
  const body = {
    errorClass: failure.errorClass,
    message: redactor.redact(failure.message),
    ...(failure.where ? { where: redactor.redact(failure.where) } : {}),
    ...(failure.fix ? { fix: redactor.redact(failure.fix) } : {}),
  };
  return json(
    statusFor[failure.errorClass],
    { error: body },
    failure.retryAfterMs ? { 'retry-after': String(Math.ceil(failure.retryAfterMs / 1000)) } : {},
  );
}

/** Reads a JSON body; a body that is not JSON is a 400 with the parser's reason. */
export async function readJson(
  request: HttpRequest,
): Promise<{ ok: true; body: unknown } | { ok: false; response: HttpResponseInit }> {
  const text = await request.text();
  if (text.trim() === '') return { ok: true, body: undefined };
  try {
    return { ok: true, body: JSON.parse(text) };
  } catch (error) {
    return {
      ok: false,
      response: problems(400, 'The request body is not valid JSON', [
        { field: '(body)', reason: error instanceof Error ? error.message : String(error) },
      ]),
    };
  }
}

/** Validates route parameters or query values; problems name the parameter. */
export function parseParams<T>(
  schema: z.ZodType<T>,
  values: unknown,
): { ok: true; value: T } | { ok: false; response: HttpResponseInit } {
  const parsed = schema.safeParse(values);
  if (parsed.success) return { ok: true, value: parsed.data };
  return {
    ok: false,
    response: problems(
      400,
      'Invalid request parameters',
      parsed.error.issues.map((issue) => ({ field: fieldPath(issue.path) || '(parameters)', reason: issue.message })),
    ),
  };
}

/**
 * The shell every API handler shares: route parameters validated (400 naming the parameter), then the work,
 * with any failure mapped by `errorResponse`.
 */
export function guarded<P>(
  schema: z.ZodType<P>,
  handle: (params: P, request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>,
): HttpHandler {
  return async (request, context) => {
    const params = parseParams(schema, request.params);
    if (!params.ok) return params.response;
    try {
      return await handle(params.value, request, context);
    } catch (error) {
      return errorResponse(error, context);
    }
  };
}

/** One entity tag as blob storage takes it: `*`, `"…"` or `W/"…"`. A list is valid HTTP, but storage refuses it. */
const ifMatchHeader = z.object({
  'If-Match': z.string().regex(/^(\*|(W\/)?"[^"]*")$/, 'use one ETag exactly as a response gave it, or *'),
});

/** The `If-Match` condition of a write; absent or empty means unconditional. */
export function readIfMatch(
  request: HttpRequest,
): { ok: true; value: { ifMatch: string } | undefined } | { ok: false; response: HttpResponseInit } {
  const value = request.headers.get('if-match');
  if (value === null || value === '') return { ok: true, value: undefined };
  const parsed = parseParams(ifMatchHeader, { 'If-Match': value });
  return parsed.ok ? { ok: true, value: { ifMatch: parsed.value['If-Match'] } } : parsed;
}
