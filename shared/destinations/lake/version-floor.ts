/**
 * The per-table version floor of a full resync (see `table-state.ts`): cleared when a resync starts, so its copy may
 * bring back rows the lake lost below an older floor, and set to the resync's watermark by its sweep.
 */
import { tableStatePath } from './paths';
import { serial, type LakeState } from './state';
import { writeText } from './storage';
import { withTableLock } from './table-lock';
import { readTableState } from './table-state';

type FloorState = Pick<LakeState, 'container' | 'queues' | 'tableStates' | 'inPlaceTables'>;

/** Sets (or, with undefined, clears) the table's floor in its state blob, under the table's lock. */
export async function setVersionFloor(state: FloorState, table: string, floor: number | undefined): Promise<void> {
  // Nothing to clear (a table never resynced, or not written yet): no lock, no blob.
  if (floor === undefined && (await readTableState(state.container, table)).state.floor === undefined) return;
  await serial(state, `table:${table}`, () =>
    withTableLock(state.container, table, async (lock) => {
      const { state: current, etag } = await readTableState(state.container, table);
      const { floor: _old, ...rest } = current;
      lock.check();
      try {
        await writeText(
          state.container,
          tableStatePath(table),
          JSON.stringify(floor === undefined ? rest : { ...rest, floor }),
          etag,
        );
      } finally {
        // Both write paths read the blob again, with the new floor.
        state.tableStates.delete(table);
        state.inPlaceTables.delete(table);
      }
    }),
  );
}
