/**
 * What deleting a profile removes besides the profile: its checkpoints, table statuses, metadata snapshot and
 * activation record, so a profile created again under the same name copies every table from scratch instead of
 * following the old one's delta links into a new destination. The destination's tables are kept, as DES kept them.
 */
import type { SyncServices } from '../wiring/services';

export type ForgetProfileServices = Pick<SyncServices, 'checkpoints' | 'status' | 'snapshots' | 'activations'>;

export async function forgetProfileState(services: ForgetProfileServices, profile: string): Promise<void> {
  // Checkpoints first: without them nothing polls or copies for this name any more, whatever else is left.
  await services.checkpoints.deleteByProfile(profile);
  await services.status.deleteByProfile(profile);
  await services.snapshots.delete(profile);
  await services.activations.delete(profile);
}
