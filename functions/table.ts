import { apply } from './apply-changes';
import { adminConsole } from './console';
import { copyPageActivity } from './copy-page';
import { copyPartitionActivity } from './copy-partition';
import { deadLetters } from './dead-letters';
import type { FunctionDefinition } from './definition';
import type { FunctionDeps } from './deps';
import { failureRetention } from './failure-retention';
import { downloadFailure } from './failures-download';
import { listFailures } from './failures-list';
import { resyncFailed } from './failures-resync';
import { health } from './health';
import { initialSync } from './initial-sync';
import { lakeMaintenance } from './lake-maintenance';
import { schemaRefresh } from './schema-refresh';
import { poll } from './poll-changes';
import { activate } from './profiles-activate';
import { deactivate } from './profiles-deactivate';
import { deleteProfile } from './profiles-delete';
import { getProfile } from './profiles-get';
import { listProfiles } from './profiles-list';
import { putProfile } from './profiles-put';
import { recordInitialSyncFailureActivity } from './record-initial-sync-failure';
import { status } from './profiles-status';
import { resyncOneTable } from './tables-resync';

/** Every function of the product. Both hosts register exactly this list. */
export const functionTable: readonly FunctionDefinition<FunctionDeps>[] = [
  health,
  listProfiles,
  putProfile,
  getProfile,
  deleteProfile,
  activate,
  deactivate,
  status,
  listFailures,
  resyncFailed,
  downloadFailure,
  resyncOneTable,
  adminConsole,
  poll,
  lakeMaintenance,
  schemaRefresh,
  failureRetention,
  apply,
  deadLetters,
  initialSync,
  copyPageActivity,
  copyPartitionActivity,
  recordInitialSyncFailureActivity,
];
