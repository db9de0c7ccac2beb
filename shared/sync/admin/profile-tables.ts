/**
 * The source check a profile gets when it is saved (PUT /api/profiles/{name}): its tables exist and are
 * change-tracked, and its relationships are many-to-many relationships of those tables. Activation checks
 * the same (activation.ts) with the same messages, but an admin should hear it when saving, not later.
 *
 * A source that does not answer (unreachable, secret not set yet, not authorised) does not stop the save:
 * the profile may be configured before the org is; the caller gets a warning instead.
 */
import { z } from 'zod';
import type { DataverseClient } from '../../dataverse/client';
import type { RetryPolicy } from '../../dataverse/http';
import type { ManyToManyRelationship } from '../../dataverse/metadata';
import { ExportError, toExportError } from '../../errors';
import type { ExportProfile } from '../../profile/profile';
import { redactor } from '../../telemetry/redaction';

/** Few and short attempts: a person is waiting for the PUT. */
export const PROFILE_CHECK_RETRY: Partial<RetryPolicy> = { maxAttempts: 2, baseDelayMs: 200, requestTimeoutMs: 15_000 };

/** The refusal as the API's validation problems list it: the field, and what is wrong and what to do. */
export const sourceProblem = (error: ExportError): { field: string; reason: string } => ({
  field: error.where ?? 'tables',
  reason: error.fix ? `${error.message}. ${error.fix}` : error.message,
});

export type SourceCheck =
  { outcome: 'checked' } | { outcome: 'refused'; error: ExportError } | { outcome: 'unchecked'; warning: string };

export const untrackedTablesError = (tables: string[]): ExportError =>
  new ExportError('config', `Change tracking is not enabled on: ${tables.join(', ')}`, {
    where: 'tables',
    fix: 'Turn on "Track changes" for these tables (Power Apps → Tables → Properties → Advanced options), or remove them from the profile.',
  });

export const unknownRelationshipError = (schemaName: string, known: ManyToManyRelationship[]): ExportError =>
  new ExportError(
    'config',
    `The relationship '${schemaName}' is not a many-to-many relationship of the profile's tables`,
    {
      where: 'relationships',
      fix: `Use one of: ${known.map((relationship) => relationship.schemaName).join(', ') || '(none)'}.`,
    },
  );

const unknownTablesError = (tables: string[]): ExportError =>
  new ExportError(
    'config',
    `No table named ${tables.map((name) => `'${name}'`).join(', ')} exists in the environment`,
    {
      where: 'tables',
      fix: 'Use the tables’ logical names (lower case, e.g. account), as Power Apps → Tables → Properties → Advanced options shows them, or remove them from the profile.',
    },
  );

const tableTrackingSchema = z.object({ LogicalName: z.string(), ChangeTrackingEnabled: z.boolean() });

/** `ChangeTrackingEnabled` per table that exists; absent for a table the source answered 404 for. */
async function changeTracking(source: DataverseClient, tables: string[]): Promise<Map<string, boolean>> {
  const found = new Map<string, boolean>();
  await Promise.all(
    tables.map(async (name) => {
      const path = `EntityDefinitions(LogicalName='${encodeURIComponent(name)}')?$select=LogicalName,ChangeTrackingEnabled`;
      const body = await source.http.get(path, tableTrackingSchema, { allowNotFound: true });
      if (body) found.set(name, body.ChangeTrackingEnabled);
    }),
  );
  return found;
}

/** The verdict of the source on the profile's tables and relationships; an error reading it is a warning. */
export async function checkProfileSource(
  profile: ExportProfile,
  openSource: () => Promise<DataverseClient>,
): Promise<SourceCheck> {
  let refusal: ExportError | undefined;
  try {
    const source = await openSource();
    const tracked = await changeTracking(source, profile.tables);
    const missing = profile.tables.filter((name) => !tracked.has(name));
    if (missing.length > 0) return { outcome: 'refused', error: unknownTablesError(missing) };
    const known = profile.relationships.length > 0 ? await source.readManyToMany(profile.tables) : [];
    const relationships: ManyToManyRelationship[] = [];
    for (const schemaName of profile.relationships) {
      const found = known.find((relationship) => relationship.schemaName.toLowerCase() === schemaName.toLowerCase());
      if (!found) return { outcome: 'refused', error: unknownRelationshipError(schemaName, known) };
      relationships.push(found);
    }
    const intersect = relationships
      .map((relationship) => relationship.intersectEntityName)
      .filter((name) => !profile.tables.includes(name));
    for (const [name, enabled] of await changeTracking(source, intersect)) tracked.set(name, enabled);
    const untracked = [...tracked].filter(([, enabled]) => !enabled).map(([name]) => name);
    if (untracked.length > 0) refusal = untrackedTablesError(untracked);
  } catch (error) {
    const failure = toExportError(error);
    return {
      outcome: 'unchecked',
      warning: redactor.redact(
        `Saved without checking the tables: the Dataverse environment did not answer (${failure.message}). Activation checks them.`,
      ),
    };
  }
  return refusal ? { outcome: 'refused', error: refusal } : { outcome: 'checked' };
}
