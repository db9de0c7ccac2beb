/**
 * Every reviewed T-SQL statement in test/sql/golden/ (tsql-golden.test.ts keeps them equal to what the mssql
 * dialect generates) parsed by Microsoft's ScriptDom parser with zero errors, into real MERGE and OPENJSON nodes.
 * The statements the dialect contract suite makes the mssql dialect generate are parsed in pglite.test.ts.
 * Needs a .NET SDK: skipped with a message without one, failed without one when DVX_REQUIRE_TOOLS=1 (CI).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { skipWithoutDotnet } from '../support/dotnet-tools';
import { buildTsqlChecker, parseTsql, problemsOf } from './scriptdom';

const goldenDir = join(__dirname, 'golden');
const golden = readdirSync(goldenDir)
  .filter((file) => file.endsWith('.sql'))
  .sort()
  .map((file) => ({ file, sql: readFileSync(join(goldenDir, file), 'utf8') }));

describe.skipIf(skipWithoutDotnet())('T-SQL through ScriptDom (TSql160Parser)', () => {
  let checker: string;
  // The first build restores the NuGet package and compiles (10-40 s); later runs reuse node_modules/.cache.
  beforeAll(async () => {
    checker = await buildTsqlChecker();
  }, 300_000);

  it('reports what is not T-SQL, so a clean parse means something', async () => {
    const bad = [
      'MERGE [t] AS [x] USING (SELECT 1 AS [a]) AS [s] ON [x].[a] = [s].[a] WHEN MATCHED THEN UPDATE SET [a] = 1',
      'SELEC 1',
      "IF SCHEMA_ID(N'x') IS NULL EXEC(N'CREATE SCHEM [x]')",
      "SELECT * FROM OPENJSON(@p1) WITH ([a] int '$.a' AS) AS [j]",
    ];
    const { parses, summary } = await parseTsql(checker, bad);
    expect(summary).toMatch(/[1-9]\d* errors$/);
    const problems = bad.map((sql, index) => problemsOf(sql, parses[index]!));
    expect(problems[0]).toEqual(
      expect.arrayContaining([expect.stringContaining('must be terminated by a semi-colon')]),
    );
    // T-SQL reads it as a call of a procedure named SELEC: no error, but not what the text meant.
    expect(parses[1]?.Errors).toEqual([]);
    expect(problems[1]).toEqual(['starts with SELEC, which problemsOf does not know: add it to FIRST_STATEMENT']);
    expect(problems[2]).toEqual([expect.stringMatching(/in the string run by EXEC: Incorrect syntax near 'SCHEM'/)]);
    expect(problems[3]).toEqual(
      expect.arrayContaining([expect.stringMatching(/^line 1, column \d+: Incorrect syntax/)]),
    );
  });

  it('parses every golden statement into what its text says, with zero errors', async () => {
    const { parses, summary } = await parseTsql(
      checker,
      golden.map((entry) => entry.sql),
    );
    console.log(`test/sql/golden (${golden.length} files): ${summary}`);
    const problems = Object.fromEntries(
      golden
        .map((entry, index) => [entry.file, problemsOf(entry.sql, parses[index]!)] as const)
        .filter(([, list]) => list.length > 0),
    );
    expect(problems).toEqual({});
    expect(summary).toMatch(/, 0 errors$/);
    // The statements node-sql-parser could not read are among them, as real nodes.
    const total = (node: string) => parses.reduce((sum, parse) => sum + (parse.Nodes[node] ?? 0), 0);
    expect(total('MergeStatement')).toBe(4);
    expect(total('OpenJsonTableReference')).toBeGreaterThanOrEqual(4);
  });
});
