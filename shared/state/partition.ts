/** What a deleted profile leaves in a Table storage table: one partition, removed row by row. */
import type { TableClient } from '@azure/data-tables';
import { odata } from '@azure/data-tables';
import { storageStatus } from '../storage/errors';

/** Deletes every entity of one partition (a deleted profile's rows); one already gone counts as deleted. */
export async function deletePartition(client: TableClient, partitionKey: string): Promise<void> {
  for await (const entity of client.listEntities({
    queryOptions: { filter: odata`PartitionKey eq ${partitionKey}`, select: ['RowKey'] },
  })) {
    await client.deleteEntity(partitionKey, entity.rowKey ?? '').catch((error: unknown) => {
      if (storageStatus(error).statusCode !== 404) throw error;
    });
  }
}
