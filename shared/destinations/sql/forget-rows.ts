/**
 * Forgetting a table's rows (Destination.forgetRows): every row and every tombstone of the table go in one
 * transaction, and no delete-log entry is written, since nothing was deleted in the source.
 */
import { prefixed } from '../../schema/identifiers';
import { tableRef, type SqlContext } from './context';

export async function forgetRows(context: SqlContext, logicalName: string): Promise<number> {
  const { connection, dialect } = context;
  const target = tableRef(context, prefixed(context.prefix, logicalName));
  const qualified = `${dialect.quote(target.schema)}.${dialect.quote(target.name)}`;
  return connection.transaction(async (session) => {
    const removed = await session.query(`DELETE FROM ${qualified}`);
    await session.query(dialect.deleteMetadataRows(tableRef(context, context.tombstones.name)), [
      JSON.stringify([logicalName]),
    ]);
    return removed.rowCount;
  });
}
