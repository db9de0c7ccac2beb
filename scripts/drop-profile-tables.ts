/**
 * `npm run drop-tables -- --dialect postgres|mssql|pglite --schema S [--prefix P] [--tables a,b] [--execute]
 *   [--connection-env NAME] [--data-dir DIR]`
 *
 * Prints (default) or runs the DROP statements for one profile's destination tables: those the destination
 * recorded as exported, the metadata tables and the product's own (shared/destinations/sql/profile-tables.ts).
 * A profile is found by its destination schema and prefix, as set in the profile. The connection string is
 * read from an environment variable (default DVX_DROP_CONNECTION), never from the command line, where it
 * would end up in shell history. Deactivate the profile first: a running sync would recreate the tables.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import type { SqlConnection } from '../shared/destinations/sql/connection';
import { createMssqlConnection } from '../shared/destinations/sql/mssql-connection';
import { mssqlDialect } from '../shared/destinations/sql/mssql-dialect';
import { createPgConnection } from '../shared/destinations/sql/pg-connection';
import { createPgliteConnection } from '../shared/destinations/sql/pglite-connection';
import { postgresDialect } from '../shared/destinations/sql/postgres-dialect';
import { dropProfileTables } from '../shared/destinations/sql/profile-tables';
import { ExportError } from '../shared/errors';

const argsSchema = z.object({
  dialect: z.enum(['postgres', 'mssql', 'pglite']),
  schema: z.string().min(1),
  prefix: z.string().default(''),
  tables: z
    .string()
    .optional()
    .transform((list) => (list ? list.split(',').map((name) => name.trim()) : [])),
  execute: z.boolean().default(false),
  'connection-env': z.string().min(1).default('DVX_DROP_CONNECTION'),
  'data-dir': z.string().min(1).optional(),
});
type DropArgs = z.infer<typeof argsSchema>;

async function connect(args: DropArgs, env: Record<string, string | undefined>): Promise<SqlConnection> {
  if (args.dialect === 'pglite') return createPgliteConnection(args['data-dir']);
  const connectionString = env[args['connection-env']];
  if (!connectionString) {
    throw new ExportError('config', `The environment variable ${args['connection-env']} is not set`, {
      where: args['connection-env'],
      fix: `Set it to the destination's connection string, or name another variable with --connection-env.`,
    });
  }
  return args.dialect === 'mssql'
    ? createMssqlConnection(connectionString, 1, undefined)
    : createPgConnection(connectionString, 1);
}

/** Parses the arguments, lists the profile's tables, prints their DROP statements and runs them with --execute. */
export async function runDropProfileTables(
  argv: string[],
  env: Record<string, string | undefined>,
  print: (line: string) => void,
): Promise<string[]> {
  const { values } = parseArgs({
    args: argv,
    options: {
      dialect: { type: 'string' },
      schema: { type: 'string' },
      prefix: { type: 'string' },
      tables: { type: 'string' },
      execute: { type: 'boolean' },
      'connection-env': { type: 'string' },
      'data-dir': { type: 'string' },
    },
  });
  const parsed = argsSchema.safeParse(values);
  if (!parsed.success) {
    throw new ExportError('config', `Invalid arguments: ${z.prettifyError(parsed.error)}`, {
      where: 'command line',
      fix: 'Give --dialect and --schema, as the profile sets them (and --prefix when it has one).',
    });
  }
  const args = parsed.data;
  const connection = await connect(args, env);
  try {
    const dialect = args.dialect === 'mssql' ? mssqlDialect : postgresDialect;
    const target = { schema: args.schema, prefix: args.prefix, extraEntities: args.tables };
    const statements = await dropProfileTables(connection, dialect, target, args.execute);
    for (const statement of statements) print(`${statement};`);
    print(
      statements.length === 0
        ? `-- No table of prefix '${args.prefix}' exists in schema ${args.schema}.`
        : args.execute
          ? `-- Dropped ${statements.length} tables.`
          : `-- Dry run: nothing was dropped. Run again with --execute to drop these ${statements.length} tables.`,
    );
    return statements;
  } finally {
    await connection.close();
  }
}

if (require.main === module) {
  runDropProfileTables(process.argv.slice(2), process.env, (line) => console.log(line)).catch((error: unknown) => {
    const failure = error instanceof ExportError ? error : undefined;
    console.error(failure ? `${failure.message}${failure.fix ? `\n${failure.fix}` : ''}` : String(error));
    process.exit(1);
  });
}
