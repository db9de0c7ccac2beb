/**
 * Activities as DES exported them. `activitypointer` (the base table every activity type shares) was refused
 * by DES; the activity types themselves (email, appointment, phonecall, …) were exported, and their
 * PartyList columns (to, from, cc, requiredattendees, …) are not Web API properties of the activity: each
 * party is a row of the `activityparty` table, which is exported like any other table.
 */
import { ExportError } from '../errors';
import { ACTIVITY_POINTER_TABLE, tableRefusal } from '../profile/refused-tables';

export { ACTIVITY_POINTER_TABLE };

export const ACTIVITY_PARTY_TABLE = 'activityparty';
/** The primary key of `activitypointer` and of every activity table (activityid), not `<table>id`. */
export const ACTIVITY_ID_COLUMN = 'activityid';

/** Throws the refusal of a table as a config error; used where table metadata enters the product. */
export function assertExportableTable(logicalName: string): void {
  const refusal = tableRefusal(logicalName);
  if (refusal) throw new ExportError('config', refusal.reason, { where: `table ${logicalName}`, fix: refusal.fix });
}

/**
 * Why a PartyList column has no destination column. Dataverse keeps each party as an activityparty row
 * (activityid → the activity, partyid → the account/contact/user, participationtypemask → which list);
 * the Web API has no property for the list on the activity row
 * (learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/email lists no `to`/`from`/`cc`).
 */
export const partyListSkipReason = (column: string): string =>
  `PartyList: the parties of '${column}' are rows of the activityparty table (participationtypemask tells the lists apart); add activityparty to the profile to export them`;
