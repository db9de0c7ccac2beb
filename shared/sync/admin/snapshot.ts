import type { TableMetadata } from '../../dataverse/metadata';
import { ExportError } from '../../errors';
import type { SyncServices } from '../wiring/services';

export type SnapshotServices = Pick<SyncServices, 'snapshots'>;

/** The table's metadata as read at activation. */
export async function snapshotTable(
  services: SnapshotServices,
  profile: string,
  table: string,
): Promise<TableMetadata> {
  const snapshot = await services.snapshots.get(profile);
  const found = snapshot?.value.tables.find((candidate) => candidate.logicalName === table);
  if (!found) {
    throw new ExportError('config', `Profile '${profile}' has no activated table '${table}'`, {
      where: `${profile}/${table}`,
      fix: 'Activate the profile (POST /api/profiles/{name}/activate) so its tables are read and created.',
    });
  }
  return found;
}
