/**
 * Shows the initial sync per table while it runs: progress bars on a terminal, one line per finished table
 * otherwise (CI logs, piped output); a table whose copy failed shows FAILED with the reason on both. Reads the
 * same status endpoint an admin would.
 */
import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import { terminalColumns } from './cli/terminal';

/** Everything on a bar's line but the bar: table (16), value/total, "rows", the phase. */
const TEXT_AROUND_BAR = 56;

export interface TableProgressView {
  table: string;
  phase: string;
  initialRowsCopied: number;
  /** The status endpoint's health of the table (shared/sync/admin/table-health.ts). */
  health?: { state: 'ok' | 'degraded' | 'failed'; reason: string | null };
}

/** The tables whose initial sync failed: the status endpoint says so, and waiting for delta would never end. */
export const failedTables = (tables: TableProgressView[]): TableProgressView[] =>
  tables.filter((table) => table.health?.state === 'failed');

export interface InitialSyncProgress {
  update(tables: TableProgressView[]): void;
  stop(): void;
}

export function initialSyncProgress(
  totals: Record<string, number | undefined>,
  write: (line: string) => void,
): InitialSyncProgress {
  const interactive = process.stdout.isTTY === true;
  const bars = interactive
    ? new MultiBar(
        {
          format: ' {table} |{bar}| {value}/{total} rows  {phase}',
          hideCursor: true,
          // The bar shrinks so its line fits the terminal (80 columns when the width is unknown).
          barsize: Math.max(10, Math.min(40, terminalColumns(process.stdout) - TEXT_AROUND_BAR)),
          clearOnComplete: false,
          autopadding: true,
        },
        Presets.shades_classic,
      )
    : undefined;
  const byTable = new Map<string, SingleBar>();
  const reported = new Set<string>();
  return {
    update(tables) {
      for (const table of tables) {
        const total = Math.max(totals[table.table] ?? table.initialRowsCopied, table.initialRowsCopied, 1);
        const failed = table.health?.state === 'failed';
        const phase = failed ? 'FAILED' : table.phase === 'delta' ? 'copied' : table.phase;
        if (bars) {
          const bar = byTable.get(table.table) ?? bars.create(total, 0, { table: table.table.padEnd(16), phase });
          byTable.set(table.table, bar);
          bar.setTotal(total);
          bar.update(table.initialRowsCopied, { table: table.table.padEnd(16), phase });
        } else if (table.phase === 'delta' && !reported.has(table.table)) {
          reported.add(table.table);
          write(`  ${table.table}: ${table.initialRowsCopied} rows copied`);
        }
        if (failed && !reported.has(`${table.table} failed`)) {
          reported.add(`${table.table} failed`);
          bars?.log(`${table.table}: initial sync FAILED: ${table.health?.reason ?? 'no reason given'}\n`);
          if (!bars) write(`  ${table.table}: initial sync FAILED: ${table.health?.reason ?? 'no reason given'}`);
        }
      }
    },
    stop: () => bars?.stop(),
  };
}
