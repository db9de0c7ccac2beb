/**
 * Settings of a SQL destination: which database, how to reach it, and where the profile's tables go.
 * One destination object serves one export profile (its schema, prefix and delete-log choice).
 */
import { z } from 'zod';

/**
 * The connection string itself: the profile refers to a secret (Key Vault or app setting), which the runtime
 * resolves and checks (shared/sync/wiring/runtime.ts) before it gets here. For mssql, Entra ID sign-in is the string's
 * `Authentication=` keyword (mssql-authentication.ts).
 */
const connectionString = z.strictObject({ connectionString: z.string().min(1) });

const profileTarget = {
  /** DES default; alphanumeric. */
  schema: z.string().default('dbo'),
  /** Table name prefix; alphanumeric, fewer than 15 characters; empty for none. */
  prefix: z.string().default(''),
  /** Write DES's `<prefix>_DeleteLog`. */
  writeDeleteLog: z.boolean().default(false),
};

export const sqlDestinationConfigSchema = z.discriminatedUnion('dialect', [
  z.strictObject({ dialect: z.literal('postgres'), connection: connectionString, ...profileTarget }),
  /** Embedded PostgreSQL: in memory unless `dataDir` is set. */
  z.strictObject({ dialect: z.literal('pglite'), dataDir: z.string().min(1).optional(), ...profileTarget }),
  z.strictObject({ dialect: z.literal('mssql'), connection: connectionString, ...profileTarget }),
]);

export type SqlDestinationConfig = z.input<typeof sqlDestinationConfigSchema>;
export type ParsedSqlDestinationConfig = z.output<typeof sqlDestinationConfigSchema>;
