/**
 * Records the T-SQL the mssql dialect generates for exactly the calls a destination makes while the dialect
 * contract suite runs on another dialect: each statement builder of the wrapped dialect also asks mssqlDialect
 * for its statement with the same arguments. Nothing pretends to be SQL Server: the wrapped dialect's own
 * statements run against its real database; the T-SQL is only collected (for ScriptDom, in pglite.test.ts).
 */
import type { SqlDialect } from '../../shared/destinations/sql/dialect';
import { mssqlDialect } from '../../shared/destinations/sql/mssql-dialect';

/** Every member of SqlDialect that returns a statement; a test checks mssqlDialect has no other. */
export const STATEMENT_BUILDERS = [
  'createSchema',
  'createTable',
  'addColumn',
  'alterColumnType',
  'listColumns',
  'primaryKeyColumns',
  'compatibilityLevel',
  'lockTable',
  'upsert',
  'applyDeletes',
  'deleteMetadataRows',
  'insertRows',
  'selectAll',
  'selectUnseen',
  'forgetSeenPresent',
  'raiseVersionFloor',
  'countRows',
  'fillColumns',
] as const satisfies ReadonlyArray<keyof SqlDialect>;

/** Members of SqlDialect that build no statement. */
export const NOT_BUILDERS = ['name', 'quote', 'typeSql', 'parseType', 'classifyError'] as const satisfies ReadonlyArray<
  keyof SqlDialect
>;

type Builder = (typeof STATEMENT_BUILDERS)[number];

export interface MssqlShadow {
  dialect: SqlDialect;
  /** Each distinct T-SQL statement, with the builder that made it. */
  statements: Map<string, Builder>;
}

export function shadowWithMssql(dialect: SqlDialect): MssqlShadow {
  const statements = new Map<string, Builder>();
  const shadowed: SqlDialect = { ...dialect };
  for (const builder of STATEMENT_BUILDERS) {
    const own = dialect[builder] as (...args: unknown[]) => string;
    const tsql = mssqlDialect[builder] as (...args: unknown[]) => string;
    (shadowed as unknown as Record<Builder, (...args: unknown[]) => string>)[builder] = (...args) => {
      statements.set(tsql.apply(mssqlDialect, args), builder);
      return own.apply(dialect, args);
    };
  }
  return { dialect: shadowed, statements };
}
