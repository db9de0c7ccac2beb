/**
 * `npm start -- --once`: a scripted run of creates, updates, deletes and re-creates through the emulator's Web API,
 * then a row-by-row comparison of the destination with the source; the caller exits 0 only when they are equal.
 */
import type { FunctionDeps } from '../functions/deps';
import type { Emulator } from './emulator/server';
import { compareTable, isEqual, versionsEqual, type TableDifference } from './verify';
import type { Workload } from './workload/workload';

export const ONCE_OPERATIONS = 300;

async function waitUntilEqual(
  deps: FunctionDeps,
  profile: string,
  emulator: Emulator,
  tables: string[],
  timeoutMs: number,
): Promise<TableDifference[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { destination } = await deps.sync.runtimes.get(profile);
    const differences = await Promise.all(tables.map((table) => compareTable(emulator, destination, table)));
    // Rows at the source's versions are not rewritten: once versions agree, wrong values stay wrong.
    if (differences.every(versionsEqual) || Date.now() > deadline) return differences;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

const describeDifference = (difference: TableDifference): string =>
  isEqual(difference)
    ? 'equal'
    : `DIFFERENT: ${difference.missingOrStale.length} missing or stale, ${difference.extra.length} extra, ${difference.wrongValueCount} wrong values`;

/** True when the destination equals the source after the scripted changes. */
export async function runOnceCheck(
  run: { deps: FunctionDeps; profile: string; emulator: Emulator; workload: Workload; tables: string[] },
  say: (line: string) => void,
): Promise<boolean> {
  for (let i = 0; i < ONCE_OPERATIONS; i++) await run.workload.step();
  say(`Applied ${ONCE_OPERATIONS} scripted creates, updates, deletes and re-creates through the Web API;`);
  say('waiting for the destination to match.');
  const differences = await waitUntilEqual(run.deps, run.profile, run.emulator, run.tables, 60_000);
  for (const difference of differences) {
    say(
      `  ${difference.table.padEnd(16)} source ${String(difference.sourceRows).padStart(6)}  destination ${String(difference.destinationRows).padStart(6)}  ${describeDifference(difference)}`,
    );
    for (const wrong of difference.wrongValues) say(`    ${wrong}`);
  }
  const equal = differences.every(isEqual);
  say(
    equal
      ? 'The destination equals the source, row by row and column by column.'
      : 'The destination does NOT equal the source (see above).',
  );
  return equal;
}
