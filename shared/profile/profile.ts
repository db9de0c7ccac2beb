/**
 * The export profile: everything DES's profiles had (tables, M:N relationships, destination, schema, prefix,
 * retry count and interval, delete log) plus the Dataverse source. Profiles hold secret *references* only —
 * a Key Vault secret URI or the name of an app setting — never a secret, so storing, listing and returning
 * a profile can never leak one.
 */
import { z } from 'zod';
import { lakeTargetShape, requireContainerName } from '../destinations/lake/config';
import { tableRefusal } from './refused-tables';

/** Used in URLs, orchestration instance ids, blob paths and queue batch ids. */
export const profileNameSchema = z
  .string()
  .regex(
    /^[a-z][a-z0-9-]{1,38}[a-z0-9]$/,
    'use 3 to 40 lower-case letters, digits and hyphens, starting with a letter and not ending with a hyphen',
  );

/** Dataverse logical names. */
export const logicalNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,127}$/, 'must be a Dataverse logical name: lower-case letters, digits and _');

export const secretReferenceSchema = z.union([
  z.strictObject({
    /** Azure: `https://<vault>.vault.azure.net/secrets/<name>[/<version>]`. */
    keyVaultSecretUri: z.url({ protocol: /^https$/, hostname: /\.vault\.(azure\.net|azure\.cn|usgovcloudapi\.net)$/ }),
  }),
  z.strictObject({
    /**
     * The name of an app setting holding the value. Only names with the one prefix (shared/security/policy.ts):
     * any other setting (AzureWebJobsStorage, a connection string the app uses itself) is out of a profile's reach.
     */
    appSetting: z
      .string()
      .regex(/^DVX_SECRET_[A-Za-z0-9_]{1,116}$/, 'must be the name of an app setting starting with DVX_SECRET_'),
  }),
]);
export type SecretReference = z.infer<typeof secretReferenceSchema>;

const loopbackHost = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/;

/** The Web API base URL, `https://<org>.crm.dynamics.com/api/data/v9.2/`; plain http only on loopback (the emulator). */
/** zod 4 runs refinements even after the URL check failed: they must not throw on text that is no URL. */
const parsedUrl = (value: string): URL | undefined => (URL.canParse(value) ? new URL(value) : undefined);

/** The Web API base URL, `https://<org>.crm.dynamics.com/api/data/v9.2/`; plain http only on loopback (the emulator). */
export const environmentUrlSchema = z
  .url({ protocol: /^https?$/ })
  .refine((value) => {
    const url = parsedUrl(value);
    return url === undefined || url.protocol === 'https:' || loopbackHost.test(url.hostname);
  }, 'must use https (plain http is accepted only for a local emulator on 127.0.0.1 or localhost)')
  .refine((value) => {
    const url = parsedUrl(value);
    return url === undefined || /\/api\/data\/v9\.\d+\/?$/.test(url.pathname);
  }, 'must be the Web API base URL ending in /api/data/v9.2/')
  .transform((value) => (value.endsWith('/') ? value : `${value}/`));

export const sourceAuthSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('client-secret'),
    tenantId: z.guid(),
    clientId: z.guid(),
    clientSecret: secretReferenceSchema,
  }),
  /** The function app's managed identity; `clientId` for a user-assigned one. */
  z.strictObject({ kind: z.literal('managed-identity'), clientId: z.guid().optional() }),
  /** A bearer token from an app setting: for the local emulator. */
  z.strictObject({ kind: z.literal('static-token'), token: secretReferenceSchema }),
]);

/** Alphanumeric per DES; the prefix is shorter than 15 characters. */
const sqlSchemaName = z.string().regex(/^[A-Za-z][A-Za-z0-9]{0,127}$/, 'must be alphanumeric, starting with a letter');
const sqlPrefix = z
  .string()
  .regex(/^[A-Za-z0-9]{0,14}$/, 'must be alphanumeric and shorter than 15 characters (empty for none)');

export const sqlDestinationSchema = z.discriminatedUnion('dialect', [
  z.strictObject({
    kind: z.literal('sql'),
    dialect: z.literal('mssql'),
    connection: secretReferenceSchema,
    schema: sqlSchemaName.default('dbo'),
    prefix: sqlPrefix.default(''),
  }),
  z.strictObject({
    kind: z.literal('sql'),
    dialect: z.literal('postgres'),
    connection: secretReferenceSchema,
    schema: sqlSchemaName.default('dbo'),
    prefix: sqlPrefix.default(''),
  }),
  /**
   * Embedded PostgreSQL (local mode only): in `<DVX_DATA_DIR>/databases/<profile>`, in memory without that setting.
   * A profile names no folder: one could otherwise write a database anywhere, or into another profile's.
   */
  z.strictObject({
    kind: z.literal('sql'),
    dialect: z.literal('pglite'),
    schema: sqlSchemaName.default('dbo'),
    prefix: sqlPrefix.default(''),
  }),
]);

/**
 * A Synapse-Link-compatible lake (ADLS Gen2 / Blob storage): the account's connection string through a secret
 * reference, or its URL reached with the app's managed identity (Storage Blob Data Contributor).
 */
export const lakeDestinationSchema = requireContainerName(
  z.strictObject({
    kind: z.literal('lake'),
    storage: z.union(
      [
        z.strictObject({ connectionString: secretReferenceSchema }),
        /** `https://<account>.dfs.core.windows.net` or `.blob.`; plain http only on loopback (Azurite). */
        z.strictObject({
          accountUrl: z.url({ protocol: /^https?$/ }).refine((value) => {
            const url = new URL(value);
            return url.protocol === 'https:' || loopbackHost.test(url.hostname);
          }, 'must use https (plain http is accepted only for Azurite on 127.0.0.1 or localhost)'),
        }),
      ],
      {
        error:
          'give either { connectionString: <secret reference> } or { accountUrl: "https://<account>.dfs.core.windows.net" }',
      },
    ),
    ...lakeTargetShape,
  }),
);

export const destinationSchema = z.discriminatedUnion('kind', [sqlDestinationSchema, lakeDestinationSchema]);

export const exportProfileSchema = z.strictObject({
  name: profileNameSchema,
  description: z.string().max(1000).optional(),
  source: z.strictObject({ environmentUrl: environmentUrlSchema, auth: sourceAuthSchema }),
  tables: z
    .array(logicalNameSchema)
    .min(1, 'name at least one table')
    .max(1000)
    .refine((tables) => new Set(tables).size === tables.length, 'each table may be named once')
    .superRefine((tables, context) => {
      tables.forEach((table, index) => {
        const refusal = tableRefusal(table);
        if (refusal) context.addIssue({ code: 'custom', path: [index], message: `${refusal.reason}. ${refusal.fix}` });
      });
    }),
  /** M:N relationship schema names; their intersect tables are exported like tables. */
  relationships: z
    .array(z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,127}$/, 'must be a relationship schema name'))
    .max(1000)
    .default([]),
  destination: destinationSchema,
  /** Attempts after the first for a batch that fails transiently, as DES: 0–20, default 12. */
  retryCount: z.int().min(0).max(20).default(12),
  /** Seconds between those attempts, as DES: 0–3600, default 5. */
  retryIntervalSeconds: z.int().min(0).max(3600).default(5),
  /** Write `<prefix>_DeleteLog` rows for deletes, as DES's "delete log" option. */
  writeDeleteLog: z.boolean().default(false),
});

/** What an admin sends (defaults may be left out). */
export type ExportProfileInput = z.input<typeof exportProfileSchema>;
/** A validated profile with defaults applied. */
export type ExportProfile = z.output<typeof exportProfileSchema>;

export interface ProfileProblem {
  /** JSON path of the field, e.g. `destination.prefix` or `tables[2]`. */
  field: string;
  reason: string;
}

export function fieldPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (text, part) => (typeof part === 'number' ? `${text}[${part}]` : text ? `${text}.${String(part)}` : String(part)),
    '',
  );
}

export type ProfileValidation = { ok: true; profile: ExportProfile } | { ok: false; problems: ProfileProblem[] };

/** Validates a profile body; every problem names its field and the reason. */
export function validateProfile(body: unknown): ProfileValidation {
  const parsed = exportProfileSchema.safeParse(body);
  if (parsed.success) return { ok: true, profile: parsed.data };
  return {
    ok: false,
    problems: parsed.error.issues.map((issue) => ({ field: fieldPath(issue.path) || '(body)', reason: issue.message })),
  };
}
