/**
 * Settings of a SQL destination: which database, how to reach it, and where the profile's tables go.
 * One destination object serves one export profile (its schema, prefix and delete-log choice).
 */
import { z } from 'zod';

/** A connection string given directly (local) or kept in Key Vault (Azure: the secret's URI). */
const connectionSecret = z.union([
  z.strictObject({ connectionString: z.string().min(1) }),
  z.strictObject({ keyVaultSecretUri: z.url({ protocol: /^https$/ }) }),
]);

const poolSize = z.int().min(1).max(100).default(10);

const profileTarget = {
  /** DES default; alphanumeric. */
  schema: z.string().default('dbo'),
  /** Table name prefix; alphanumeric, fewer than 15 characters; empty for none. */
  prefix: z.string().default(''),
  /** Write DES's `<prefix>_DeleteLog`. */
  writeDeleteLog: z.boolean().default(false),
  /** A value longer than its column widens the column instead of failing the row (DES failed such rows). */
  widenOverlongStrings: z.boolean().default(true),
};

export const sqlDestinationConfigSchema = z.discriminatedUnion('dialect', [
  z.strictObject({ dialect: z.literal('postgres'), connection: connectionSecret, poolSize, ...profileTarget }),
  /** Embedded PostgreSQL: in memory unless `dataDir` is set. */
  z.strictObject({ dialect: z.literal('pglite'), dataDir: z.string().min(1).optional(), ...profileTarget }),
  z.strictObject({
    dialect: z.literal('mssql'),
    connection: z.union([
      connectionSecret,
      /** Entra ID token auth (managed identity or any DefaultAzureCredential source) to Azure SQL. */
      z.strictObject({ entra: z.strictObject({ server: z.string().min(1), database: z.string().min(1), port: z.int().optional() }) }),
    ]),
    poolSize,
    ...profileTarget,
  }),
]);

export type SqlDestinationConfig = z.input<typeof sqlDestinationConfigSchema>;
export type ParsedSqlDestinationConfig = z.output<typeof sqlDestinationConfigSchema>;
