/**
 * The initial-sync orchestration's plan, kept pure so the orchestrator stays a thin, deterministic loop:
 * each cycle copies one page of up to `fanOut` tables at once, then continues as new with the tables
 * still copying, so the orchestration history never grows beyond one cycle.
 */
export interface InitialSyncInput {
  profile: string;
  /** The profile's activation generation: a page copy of a deleted profile of the same name is dropped. */
  generation?: string;
  /** Tables whose initial load is not finished, in the order they get their next page. */
  pending: string[];
  /** How many tables copy a page at the same time. */
  fanOut: number;
  /** Totals so far, carried across `continueAsNew`. */
  progress: Record<string, TableProgress>;
}

export interface TableProgress {
  rowsCopied: number;
  pages: number;
  done: boolean;
}

/** What the copy-page activity reports for one table. */
export interface PageCopied {
  table: string;
  rowsCopied: number;
  pages: number;
  /** The table's initial load has its deltaLink: it is in delta phase now. */
  done: boolean;
}

export const tablesThisCycle = (input: InitialSyncInput): string[] => input.pending.slice(0, Math.max(1, input.fanOut));

/** Totals per table once this cycle's pages are copied. */
export function progressAfter(input: InitialSyncInput, copied: readonly PageCopied[]): Record<string, TableProgress> {
  const progress = { ...input.progress };
  for (const result of copied)
    progress[result.table] = { rowsCopied: result.rowsCopied, pages: result.pages, done: result.done };
  return progress;
}

/** The input of the next cycle, or undefined when every table is done. Unfinished tables go to the back. */
export function nextCycle(
  input: InitialSyncInput,
  progress: Record<string, TableProgress>,
): InitialSyncInput | undefined {
  const thisCycle = tablesThisCycle(input);
  const unfinished = thisCycle.filter((table) => !progress[table]?.done);
  const pending = [...input.pending.slice(thisCycle.length), ...unfinished];
  return pending.length === 0 ? undefined : { ...input, pending, progress };
}

/**
 * The orchestration's custom status: totals only, whatever the number of tables. Durable Functions refuses a
 * custom status over 16 KB of UTF-16 JSON and fails the orchestration (local/host/durable-extension.ts), which a
 * per-table map reached at about 125 tables (measured: 19-character names, 7-digit row counts); per-table
 * figures are in the checkpoints the status API reads.
 */
export interface InitialSyncStatus {
  phase: 'copying' | 'done';
  tablesDone: number;
  tables: number;
  rowsCopied: number;
}

export function summarize(progress: Record<string, TableProgress>, tables: number): InitialSyncStatus {
  const entries = Object.values(progress);
  const tablesDone = entries.filter((entry) => entry.done).length;
  return {
    phase: tablesDone === tables ? 'done' : 'copying',
    tablesDone,
    tables,
    rowsCopied: entries.reduce((sum, entry) => sum + entry.rowsCopied, 0),
  };
}
