/**
 * Tables a profile may not name, with the reason and the fix. Here, beside the profile schema that refuses them,
 * so the profile does not import the schema layer; shared/schema/activities.ts explains the activity tables.
 */

export const ACTIVITY_POINTER_TABLE = 'activitypointer';

export interface TableRefusal {
  reason: string;
  fix: string;
}

/**
 * Tables a profile may not name, with DES's reason. DES's "Entities that don't support data export" lists
 * Activity (ActivityPointerBase) with the workaround "Select the specific activity entities for export, such
 * as Phone Call, Appointment, Email, and Task" (learn.microsoft.com/dynamics365/customer-engagement/admin/replicate-data-microsoft-azure-sql-database#known-issues).
 */
const refusedTables: ReadonlyMap<string, TableRefusal> = new Map([
  [
    ACTIVITY_POINTER_TABLE,
    {
      reason:
        'activitypointer (Activity) is the base table all activity types share; the Data Export Service did not support it for export, and neither does this product',
      fix: 'Name the activity tables themselves instead, such as phonecall, appointment, email and task (add activityparty for their senders, recipients and attendees).',
    },
  ],
]);

export const tableRefusal = (logicalName: string): TableRefusal | undefined =>
  refusedTables.get(logicalName.toLowerCase());
