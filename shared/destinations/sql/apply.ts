/**
 * Applying one batch: deduplicated by id (newest version wins), in one transaction per attempt under the table's
 * lock, version-guarded by the dialect's statements, with over-long values widening their column and data errors
 * bisected until the failing rows stand alone.
 */
import type { RowUpsert } from '../../dataverse/changes';
import type { TableMetadata } from '../../dataverse/metadata';
import { ExportError } from '../../errors';
import { withoutExponents } from '../../schema/plain-number';
import type { ApplyBatch, ApplyResult, ColumnWidening, DeleteChange, FailedChange } from '../destination';
import type { SqlContext } from './context';
import type { BulkWrite } from './dialect';
import { GUID_PATTERN } from '../../guid';
import { OverlongValue, type Layout, type Layouts } from './layout';
import { widenForValues } from './schema-sync';

/**
 * A change of a deduplicated batch. Ids are compared lower-cased: a delete carries its id so, an upsert the row as
 * the Web API sent it (its id is the value written).
 */
type Change = RowUpsert | DeleteChange;

const isUpsert = (change: Change): change is RowUpsert => 'row' in change;
const changeTypeOf = (change: Change): FailedChange['changeType'] => (isUpsert(change) ? 'upsert' : 'delete');

/**
 * One applyBatch call, for the changes of one shape (Layout.shapeOf): the layout it writes with (replaced after a
 * widening) and what it reports.
 */
interface BatchRun {
  table: TableMetadata;
  shape: string;
  layout: Layout;
  failed: FailedChange[];
  widened: ColumnWidening[];
}

interface Counts {
  upserted: number;
  deleted: number;
  stale: number;
}

const describeError = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** The batch's changes to apply, one per id, and the ones refused before any SQL runs. */
function deduplicate(
  layout: Layout,
  batch: ApplyBatch,
): { changes: Change[]; failed: FailedChange[]; superseded: number } {
  const failed: FailedChange[] = [];
  const latest = new Map<string, Change>();
  let superseded = 0;
  const consider = (change: Change): void => {
    if (!GUID_PATTERN.test(change.id)) {
      failed.push({ id: change.id, changeType: changeTypeOf(change), reason: `Id '${change.id}' is not a GUID.` });
      return;
    }
    const key = change.id.toLowerCase();
    const current = latest.get(key);
    // Newest version wins; on a tie the delete wins (its version is the watermark of the token that saw it go).
    const wins =
      !current ||
      change.versionNumber > current.versionNumber ||
      (change.versionNumber === current.versionNumber && !isUpsert(change));
    if (current) superseded += 1;
    if (wins) latest.set(key, isUpsert(change) || key === change.id ? change : { ...change, id: key });
  };
  for (const upsert of batch.upserts) {
    const broken = layout.unpairedSurrogateColumn(upsert);
    if (broken !== undefined) {
      // node-postgres would store U+FFFD silently and PGlite refuse the batch: one rule for both, and the row kept.
      failed.push({
        id: upsert.id,
        changeType: 'upsert',
        reason: `Column '${broken}' holds an unpaired UTF-16 surrogate, which no SQL text column can store.`,
      });
      continue;
    }
    consider(upsert);
  }
  for (const remove of batch.deletes) consider(remove);
  return { changes: [...latest.values()], failed, superseded };
}

export async function applyBatch(
  context: SqlContext,
  layouts: Layouts,
  table: TableMetadata,
  batch: ApplyBatch,
): Promise<ApplyResult> {
  const layout = await layouts.layoutFor(table);
  const { changes, failed, superseded } = deduplicate(layout, batch);
  const counts: Counts = { upserted: 0, deleted: 0, stale: 0 };
  const widened: ColumnWidening[] = [];
  // One transaction per shape: a batch polled across a column's addition is rare, most batches have one shape.
  for (const [shape, group] of byShape(layout, changes)) {
    const run: BatchRun = { table, shape, layout: layout.shaped(shape), failed, widened };
    const applied = await applyIsolating(context, layouts, run, group);
    counts.upserted += applied.upserted;
    counts.deleted += applied.deleted;
    counts.stale += applied.stale;
  }
  return {
    upserted: counts.upserted,
    deleted: counts.deleted,
    skippedAsStale: counts.stale + superseded,
    failed,
    widened,
  };
}

/**
 * The changes grouped by the columns their rows leave out (deletes with the rows that have every column), so an
 * upsert writes only the columns its row has: a property absent leaves the column alone, a null clears it.
 */
function byShape(layout: Layout, changes: Change[]): Map<string, Change[]> {
  const groups = new Map<string, Change[]>();
  for (const change of changes) {
    const shape = isUpsert(change) ? layout.shapeOf(change) : '';
    const group = groups.get(shape);
    if (group) group.push(change);
    else groups.set(shape, [change]);
  }
  return groups;
}

/**
 * Applies `changes`: widens columns for over-long values first (OverlongValue), and on a data error splits
 * the changes in halves until the failing rows stand alone. Later halves use the widened layout.
 */
async function applyIsolating(
  context: SqlContext,
  layouts: Layouts,
  run: BatchRun,
  changes: Change[],
): Promise<Counts> {
  const { layout, failed } = run;
  const { schema, dialect } = context;
  try {
    return await attempt(context, layout, run.table.logicalName, changes);
  } catch (error) {
    if (error instanceof OverlongValue) {
      run.widened.push(...(await widenForValues(context, layouts, run.table, layout, changes.filter(isUpsert))));
      run.layout = (await layouts.layoutFor(run.table)).shaped(run.shape);
      return applyIsolating(context, layouts, run, changes);
    }
    const errorClass = dialect.classifyError(error);
    if (errorClass !== 'data') {
      throw new ExportError(
        errorClass,
        `Applying a batch to ${schema}.${layout.ref.name} failed: ${describeError(error)}`,
        {
          cause: error,
          where: `${schema}.${layout.ref.name}`,
          fix:
            errorClass === 'schema'
              ? 'Activate the profile again so the destination tables are recreated or altered.'
              : undefined,
        },
      );
    }
    const [only] = changes;
    if (changes.length === 1 && only) {
      failed.push({ id: only.id.toLowerCase(), changeType: changeTypeOf(only), reason: describeError(error) });
      return { upserted: 0, deleted: 0, stale: 0 };
    }
    const middle = Math.ceil(changes.length / 2);
    const first = await applyIsolating(context, layouts, run, changes.slice(0, middle));
    const second = await applyIsolating(context, layouts, run, changes.slice(middle));
    return {
      upserted: first.upserted + second.upserted,
      deleted: first.deleted + second.deleted,
      stale: first.stale + second.stale,
    };
  }
}

/** One attempt at `changes`: through the dialect's bulk path where the layout has one (it may try twice). */
function attempt(context: SqlContext, layout: Layout, entity: string, changes: Change[]): Promise<Counts> {
  if (!layout.bulk) return applyInTransaction(context, layout, entity, changes, undefined);
  return layout.bulk.run(entity, (write) => applyInTransaction(context, layout, entity, changes, write));
}

async function applyInTransaction(
  context: SqlContext,
  layout: Layout,
  entity: string,
  changes: Change[],
  bulkWrite: BulkWrite | undefined,
): Promise<Counts> {
  const deletes = changes.filter((change) => !isUpsert(change));
  const upserts = changes.filter(isUpsert);
  return context.connection.transaction(async (session) => {
    await session.query(layout.lockSql, [`${context.schema}.${layout.ref.name}`]);
    const counts: Counts = { upserted: 0, deleted: 0, stale: 0 };
    if (deletes.length > 0) {
      const json = JSON.stringify(deletes.map((change) => ({ Id: change.id, versionnumber: change.versionNumber })));
      const { rows } = await session.query(layout.deleteSql, [json, entity]);
      const applied = Number(rows[0]?.applied ?? 0) - Number(rows[0]?.survived ?? 0);
      counts.deleted = applied;
      counts.stale += deletes.length - applied;
    }
    if (upserts.length > 0) {
      let rowCount = await bulkWrite?.(session, upserts, entity);
      if (rowCount === undefined) {
        const rows = upserts.map((change) => layout.values(change));
        // Plain decimals: OPENJSON's conversion to decimal refuses JavaScript's `5e-7`.
        rowCount = (await session.query(layout.upsertSql, [JSON.stringify(rows, withoutExponents), entity])).rowCount;
      }
      counts.upserted = rowCount;
      counts.stale += upserts.length - rowCount;
    }
    return counts;
  });
}
