/**
 * The initial-sync benchmark's baseline: the rows the emulator served, as Web API rows, mapped and
 * encoded with the product's own code and written with one plain `COPY` into an empty copy of the
 * destination table (same columns, types, indexes) on the same server. No version guards, no staging,
 * no checkpoints: what PostgreSQL can take, against which the apply stage is measured.
 */
import type { OrgStore } from '../../local/emulator/store';
import { sampleTable, toWebApiRow } from '../../local/sample-org';
import type { RowUpsert } from '../../shared/dataverse/changes';
import { suppliedColumns } from '../../shared/destinations/sql/dialect';
import { createPgConnection } from '../../shared/destinations/sql/pg-connection';
import { postgresDialect } from '../../shared/destinations/sql/postgres-dialect';
import { valueReader, type ValueReader } from '../../shared/schema/row-values';
import { buildTableModel } from '../../shared/schema/table-model';
import { seconds } from './sample-upserts';

const PAGE = 5_000;

/** Every row of `tableName` in the store, as the Web API returns it (annotations included). */
function webApiUpserts(store: OrgStore, tableName: string): RowUpsert[] {
  const table = sampleTable(tableName);
  const upserts: RowUpsert[] = [];
  for (let after = -1, more = true; more;) {
    const page = store.page(tableName, after, PAGE);
    for (const stored of page.rows) {
      upserts.push({
        kind: 'upsert',
        id: stored.id,
        versionNumber: stored.version,
        row: toWebApiRow(table, stored.row, { versionNumber: stored.version, annotations: true }),
      });
    }
    after = page.rows.at(-1)?.slot ?? after;
    more = page.more;
  }
  return upserts;
}

/**
 * Copies every row of each table in `store` into `<schema>_rawcopy.<table>`, a fresh copy of `<schema>.<table>`.
 * The Web API rows are built beforehand (untimed: in the sync the emulator builds them); mapping, encoding
 * and the COPY are timed, table by table. Returns the rows copied and the seconds taken.
 */
export async function rawCopy(
  connectionString: string,
  schema: string,
  store: OrgStore,
  tables: string[],
): Promise<{ rows: number; seconds: number }> {
  const connection = await createPgConnection(connectionString, 1);
  const copySchema = postgresDialect.quote(`${schema}_rawcopy`);
  const staging = postgresDialect.staging;
  if (!staging) throw new Error('The PostgreSQL dialect has no COPY path');
  let rows = 0;
  let total = 0;
  try {
    await connection.query(`DROP SCHEMA IF EXISTS ${copySchema} CASCADE`);
    await connection.query(`CREATE SCHEMA ${copySchema}`);
    for (const tableName of tables) {
      const target = `${copySchema}.${postgresDialect.quote(tableName)}`;
      await connection.query(
        `CREATE TABLE ${target} (LIKE ${postgresDialect.quote(schema)}.${postgresDialect.quote(tableName)} INCLUDING ALL)`,
      );
      const columns = buildTableModel(sampleTable(tableName), '').columns;
      const sinkTimes = columns.filter((column) => column.source.kind === 'sinkTime');
      const names = [...suppliedColumns(columns), ...sinkTimes].map((column) => postgresDialect.quote(column.name));
      const line = staging.lineEncoder(suppliedColumns(columns).map((column) => valueReader(column) as ValueReader));
      const upserts = webApiUpserts(store, tableName);
      const started = process.hrtime.bigint();
      const now = new Date().toISOString();
      const stamps = sinkTimes.map(() => `\t${now}`).join('');
      await connection.transaction(async (session) =>
        session.copyIn?.(
          `COPY ${target} (${names.join(', ')}) FROM STDIN`,
          (function* () {
            for (const upsert of upserts) yield `${line(upsert)}${stamps}\n`;
          })(),
        ),
      );
      total += seconds(started);
      const counted = Number((await connection.query(`SELECT count(*) AS n FROM ${target}`)).rows[0]?.n);
      if (counted !== upserts.length)
        throw new Error(`Raw COPY of ${tableName} left ${counted} of ${upserts.length} rows`);
      rows += counted;
    }
    await connection.query(`DROP SCHEMA ${copySchema} CASCADE`);
  } finally {
    await connection.close();
  }
  return { rows, seconds: total };
}
