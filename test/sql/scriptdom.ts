/**
 * T-SQL through Microsoft's own parser: test/tools/tsql-check (ScriptDom's TSql160Parser, the grammar of SQL
 * Server 2022 and Azure SQL Database) parses each batch, and `problemsOf` also asks that the text became real
 * statements: every MERGE a MergeStatement, every OPENJSON an OpenJsonTableReference, and the batch's first
 * keyword its first statement (T-SQL reads a misspelt `SELEC 1` as a call of a procedure named SELEC).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDotnetTool, runDotnetTool } from '../support/dotnet-tools';

export interface TsqlParse {
  Errors: Array<{ Line: number; Column: number; Message: string; Text: string }>;
  /** Top-level statement node types, in order; those of a string run by EXEC(...) are prefixed `EXEC>`. */
  Statements: string[];
  /** How many nodes of each type the batch parsed into. */
  Nodes: Record<string, number>;
}

/** Builds the checker if needed (10-40 s the first time); call from a beforeAll with a long timeout. */
export const buildTsqlChecker = (): Promise<string> => buildDotnetTool('tsql-check');

/** Parses each batch; `summary` is the checker's closing line ("… parsed N statements in M batches, E errors"). */
export async function parseTsql(checker: string, batches: string[]): Promise<{ parses: TsqlParse[]; summary: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'dvx-tsql-'));
  try {
    const input = join(dir, 'batches.json');
    writeFileSync(input, JSON.stringify(batches));
    const { code, stdout, stderr } = await runDotnetTool(checker, [input]);
    const parses = stdout
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as TsqlParse);
    if (parses.length !== batches.length || code > 1)
      throw new Error(`tsql-check exited ${code} after ${parses.length} of ${batches.length} batches:\n${stderr}`);
    return { parses, summary: stderr.trim().split('\n').at(-1) ?? '' };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const count = (sql: string, pattern: RegExp): number => sql.match(pattern)?.length ?? 0;

/** The node type a batch's first statement must have, by its first keyword. */
const FIRST_STATEMENT: Record<string, RegExp> = {
  ALTER: /^Alter/,
  CREATE: /^Create/,
  DECLARE: /^Declare/,
  DELETE: /^DeleteStatement$/,
  EXEC: /^ExecuteStatement$/,
  IF: /^IfStatement$/,
  INSERT: /^InsertStatement$/,
  MERGE: /^MergeStatement$/,
  SELECT: /^SelectStatement$/,
  UPDATE: /^UpdateStatement$/,
};

/** Everything wrong with one batch's parse, as sentences; empty when it parsed into what its text says. */
export function problemsOf(sql: string, parse: TsqlParse): string[] {
  const problems = parse.Errors.map(
    (error) => `line ${error.Line}, column ${error.Column}: ${error.Message} near "${error.Text}"`,
  );
  const [first] = parse.Statements;
  const keyword = /^\s*([A-Za-z]+)/.exec(sql)?.[1]?.toUpperCase() ?? '';
  const expected = FIRST_STATEMENT[keyword];
  if (first === undefined) problems.push('parsed into no statement');
  else if (!expected)
    problems.push(`starts with ${keyword}, which problemsOf does not know: add it to FIRST_STATEMENT`);
  else if (!expected.test(first)) problems.push(`starts with ${keyword} but parsed as ${first}`);
  const checks: Array<[string, RegExp, string]> = [
    ['MERGE', /\bMERGE\b/gi, 'MergeStatement'],
    ['OPENJSON', /\bOPENJSON\s*\(/gi, 'OpenJsonTableReference'],
  ];
  for (const [word, pattern, node] of checks) {
    const inText = count(sql, pattern);
    const parsed = parse.Nodes[node] ?? 0;
    if (inText !== parsed) problems.push(`${inText} ${word} in the text but ${parsed} ${node} parsed`);
  }
  return problems;
}
