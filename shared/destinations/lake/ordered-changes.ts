/** A batch as the lake applies it: upserts and deletes in one list, in version order, ids that are not GUIDs failed. */
import type { RowUpsert } from '../../dataverse/changes';
import type { ApplyBatch, DeleteChange, FailedChange } from '../destination';
import { GUID_PATTERN } from '../../guid';

/** The port's `DeleteChange` has no `kind`; deletes get one here to share the ordered list with upserts. */
export type LakeChange = RowUpsert | (DeleteChange & { kind: 'delete' });

export const rowFailure = (id: string, changeType: FailedChange['changeType'], error: unknown): FailedChange => ({
  id,
  changeType,
  reason: error instanceof Error ? error.message : String(error),
});

/** Upserts and deletes in version order (deletes after an upsert of the same version); invalid ids go to `failed`. */
export function orderedChanges(batch: ApplyBatch, failed: FailedChange[]): LakeChange[] {
  const changes: LakeChange[] = [
    ...batch.upserts,
    ...batch.deletes.map((remove): LakeChange => ({
      kind: 'delete',
      id: remove.id,
      versionNumber: remove.versionNumber,
    })),
  ];
  const valid = changes.filter((change) => {
    if (GUID_PATTERN.test(change.id)) return true;
    failed.push({ id: change.id, changeType: change.kind, reason: `Id '${change.id}' is not a GUID.` });
    return false;
  });
  return valid.sort(
    (a, b) => a.versionNumber - b.versionNumber || (a.kind === b.kind ? 0 : a.kind === 'upsert' ? -1 : 1),
  );
}
