/** What the apply and lake benchmarks share: their `--name value` options, a timer, and sample account upserts. */
import type { RowUpsert } from '../../shared/dataverse/changes';
import { sampleCounts, sampleRow, sampleTable, toWebApiRow } from '../../local/sample-org';

export function option(args: string[], name: string, fallback: number): number {
  const index = args.indexOf(`--${name}`);
  const value = index >= 0 ? Number(args[index + 1]) : fallback;
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} must be a positive integer`);
  return value;
}

export const seconds = (started: bigint): number => Number(process.hrtime.bigint() - started) / 1e9;

/** `rows` sample `account` rows as the Web API returns them, versions from 1,000 up. */
export function accountUpserts(rows: number): RowUpsert[] {
  const account = sampleTable('account');
  const counts = sampleCounts(rows);
  const upserts: RowUpsert[] = [];
  for (let index = 0; index < rows; index++) {
    const row = toWebApiRow(account, sampleRow('account', index, 1, counts), {
      versionNumber: 1_000 + index,
      annotations: true,
    });
    upserts.push({ kind: 'upsert', id: String(row.accountid), versionNumber: 1_000 + index, row });
  }
  return upserts;
}
