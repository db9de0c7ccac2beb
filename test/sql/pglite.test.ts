import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqlConnection } from '../../shared/destinations/sql/connection';
import { mssqlDialect } from '../../shared/destinations/sql/mssql-dialect';
import { createPgliteConnection } from '../../shared/destinations/sql/pglite-connection';
import { postgresDialect } from '../../shared/destinations/sql/postgres-dialect';
import { skipWithoutDotnet } from '../support/dotnet-tools';
import { describeDestinationContract } from './contract';
import { describeUpdateContract } from './update-contract';
import { NOT_BUILDERS, STATEMENT_BUILDERS, shadowWithMssql } from './mssql-shadow';
import { buildTsqlChecker, parseTsql, problemsOf } from './scriptdom';

// One embedded database for the file (each test works in its own schema); starting PGlite takes a second or two.
let database: SqlConnection | undefined;
beforeAll(async () => {
  database = await createPgliteConnection(undefined);
});
afterAll(async () => {
  await database?.close();
});

// The suite also collects the T-SQL the mssql dialect generates for the same calls, parsed below.
const shadow = shadowWithMssql(postgresDialect);

const pgliteTarget = () => {
  const shared = database;
  return shared && { dialect: shadow.dialect, connect: async () => ({ ...shared, close: async () => undefined }) };
};
describeDestinationContract('PGlite (embedded)', pgliteTarget);
describeUpdateContract('PGlite (embedded)', pgliteTarget);

// Runs after the contract suite (vitest runs a file's tests in order), over every statement it produced.
describe.skipIf(skipWithoutDotnet())(
  'T-SQL the contract suite made the mssql dialect generate, through ScriptDom',
  () => {
    let checker: string;
    beforeAll(async () => {
      checker = await buildTsqlChecker();
    }, 300_000);

    it('parses every statement into what its text says, with zero errors', async () => {
      const statements = [...shadow.statements.keys()];
      const { parses, summary } = await parseTsql(checker, statements);
      console.log(`dialect contract suite (${statements.length} distinct mssql statements): ${summary}`);
      const problems = statements
        .map((sql, index) => ({
          builder: shadow.statements.get(sql),
          sql: sql.slice(0, 300),
          problems: problemsOf(sql, parses[index]!),
        }))
        .filter((entry) => entry.problems.length > 0);
      expect(problems).toEqual([]);
      expect(summary).toMatch(/, 0 errors$/);
    });

    it('saw every statement builder of the mssql dialect at work', () => {
      const members = Object.keys(mssqlDialect).filter((key) => !(NOT_BUILDERS as readonly string[]).includes(key));
      expect(members.sort()).toEqual([...STATEMENT_BUILDERS].sort());
      expect(new Set(shadow.statements.values())).toEqual(new Set(STATEMENT_BUILDERS));
    });
  },
);
