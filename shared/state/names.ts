/**
 * Where the pipeline's durable state lives in the host storage account, and the names that key it.
 * One container and a few tables, so the infra lifecycle rule and role assignments have fixed targets.
 */
import { ExportError } from '../errors';

/** Blob container for poll leases, failed records, unprocessable messages and documents (profiles). */
export const STATE_CONTAINER = 'dvexport-state';
/** Table storage tables (names: letters and digits only). */
export const CHECKPOINTS_TABLE = 'dvexportCheckpoints';
export const TABLE_STATUS_TABLE = 'dvexportTableStatus';

/**
 * Profile and table names become Table storage keys and blob path segments; keys may not contain / \ # ? or
 * control characters, and a path segment must not contain /. Dataverse logical names and profile names fit this.
 */
export const KEY_NAME_PATTERN = '[A-Za-z0-9_-]{1,128}';
const KEY_NAME = new RegExp(`^${KEY_NAME_PATTERN}$`);

export function checkedName(kind: 'profile' | 'table' | 'document', value: string): string {
  if (!KEY_NAME.test(value)) {
    throw new ExportError('config', `The ${kind} name "${value.slice(0, 140)}" cannot be used as a storage key`, {
      where: `${kind} name`,
      fix: 'Use 1 to 128 letters, digits, _ or -.',
    });
  }
  return value;
}
