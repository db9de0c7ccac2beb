/**
 * Test-only control of the emulator, outside the Web API path (`/_test/…`) so no client of Dataverse can reach it
 * by accident: `POST /_test/tables/{logicalName}/attributes` adds an attribute to a table, as a maker adding a
 * column in Dataverse would (existing rows hold null for it until written). Body: `{ name, type, maxLength?, precision? }`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { HttpError } from './http-error';
import { WriteConflict, type OrgStore } from './store';
import { readBody, send } from './wire';

export const TEST_CONTROL_PREFIX = '/_test/';

/** The attribute types the test control can add: the ones whose metadata and values need nothing but these fields. */
const attributeSchema = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9_]*$/),
  type: z.enum(['String', 'Memo', 'Integer', 'BigInt', 'Decimal', 'Double', 'DateTime']),
  maxLength: z.number().int().positive().optional(),
  precision: z.number().int().min(0).max(10).optional(),
});

export async function handleTestControl(
  store: OrgStore,
  request: IncomingMessage,
  response: ServerResponse,
  pathname: string,
): Promise<void> {
  const match = /^\/_test\/tables\/([a-z_]\w*)\/attributes$/.exec(pathname);
  if (!match || request.method !== 'POST')
    throw new HttpError(404, '0x8006088a', `The emulator's test control has no '${request.method} ${pathname}'.`);
  const parsed = attributeSchema.safeParse(await readBody(request));
  if (!parsed.success) throw new HttpError(400, '0x80040203', `Invalid attribute: ${parsed.error.message}`);
  const table = match[1] ?? '';
  if (!store.metadata().some((candidate) => candidate.logicalName === table))
    throw new HttpError(404, '0x80060888', `The emulator has no table '${table}'.`);
  try {
    const added = store.addColumn(table, parsed.data);
    send(response, 201, {
      logicalName: added.logicalName,
      metadataId: added.metadataId,
      columnNumber: added.columnNumber,
    });
  } catch (error) {
    if (error instanceof WriteConflict) throw new HttpError(409, '0x80044363', error.message);
    throw error;
  }
}
