/**
 * How table columns appear as Web API properties. Shared by the client (building `$select`, reading ids)
 * and the emulator (serving rows), so both sides name properties the same way.
 */
import type { ColumnMetadata, TableMetadata } from './metadata';

export const LOOKUP_LOGICAL_NAME = '@Microsoft.Dynamics.CRM.lookuplogicalname';
export const ASSOCIATED_NAVIGATION_PROPERTY = '@Microsoft.Dynamics.CRM.associatednavigationproperty';
export const FORMATTED_VALUE = '@OData.Community.Display.V1.FormattedValue';

const lookupTypes = new Set(['Lookup', 'Customer', 'Owner']);

export const isLookupColumn = (column: ColumnMetadata): boolean => lookupTypes.has(column.attributeType);

/** The Web API property name of a column: `_<name>_value` for lookups, the logical name otherwise. */
export const webApiPropertyName = (column: ColumnMetadata): string =>
  isLookupColumn(column) ? `_${column.logicalName}_value` : column.logicalName;

/** Image and file columns hold references to binary content that the export does not copy. */
const binaryTypeNames = new Set(['ImageType', 'FileType']);

/**
 * PartyList columns (email to/from/cc, appointment requiredattendees, …) are metadata only: the Web API
 * has no property for them on the activity (they are activityparty rows), so `$select`ing one is a 400
 * (learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/email lists no to/from/cc).
 */
export const isPartyListColumn = (column: ColumnMetadata): boolean => column.attributeType === 'PartyList';

/**
 * Columns that are Web API properties worth replicating: readable, not a helper derived from another
 * column (`AttributeOf`), not image/file content, not a PartyList.
 */
export const isReplicableColumn = (column: ColumnMetadata): boolean =>
  column.attributeOf === null &&
  column.isValidForRead &&
  !binaryTypeNames.has(column.attributeTypeName) &&
  !isPartyListColumn(column);

/** The `$select` list for a table: every replicable column as a Web API property name. */
export const webApiSelect = (table: TableMetadata): string[] =>
  table.columns.filter(isReplicableColumn).map(webApiPropertyName);

/**
 * A deltaLink repeats the query it came from, `$select` included: `table`'s every column's `$select` with the same
 * `$deltatoken`, for a link taken with fewer columns (the partitioned load's key pass, a table that gained columns).
 * That Dataverse reads a token with another `$select` is inferred, not documented (docs/notes/dataverse.md).
 */
export function withEveryColumn(deltaLink: string, table: TableMetadata): string {
  if (!/[?&]\$select=/.test(deltaLink)) return deltaLink;
  // Only the $select value is replaced: the token keeps its encoding exactly as Dataverse issued it.
  return deltaLink.replace(/([?&]\$select=)[^&]*/, `$1${webApiSelect(table).join(',')}`);
}
