/**
 * Apply throughput on PostgreSQL: `--rows` (default 200,000) sample `account` rows as Web API rows,
 * applied through the destination in `--batch`-sized batches (default 5,000, the initial-sync page
 * size), next to a raw `COPY` of the same rows into the same table in the same run; after each round's apply, an
 * update pass (every row again, each version newer) is timed against the same round's raw COPY. Both paths start
 * from the same in-memory Web API rows and map them with the same code, so the ratio compares the
 * write paths. Starts its own PostgreSQL 15 unless PG_CONNECTION_STRING is set; with its own server it also
 * reports each side's CPU time (this process plus the server's backends), which other sessions' load on the
 * machine does not stretch the way it stretches wall-clock time.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import type { RowUpsert } from '../../shared/dataverse/changes';
import { createPgConnection } from '../../shared/destinations/sql/pg-connection';
import { createSqlDestination } from '../../shared/destinations/sql/destination';
import { suppliedColumns } from '../../shared/destinations/sql/dialect';
import { postgresDialect } from '../../shared/destinations/sql/postgres-dialect';
import { valueReader, type ValueReader } from '../../shared/schema/row-values';
import { buildTableModel } from '../../shared/schema/table-model';
import { sampleTable } from '../../local/sample-org';
import { accountUpserts, option, seconds } from './sample-upserts';
import { minOf } from './stats';
import { startPostgresServer } from '../support/postgres-server';

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const rows = option(args, 'rows', 200_000);
  const batchSize = option(args, 'batch', 5_000);
  const rounds = option(args, 'rounds', 7);
  const account = sampleTable('account');
  const upserts = accountUpserts(rows);

  const server = await startPostgresServer();
  const connection = await createPgConnection(server.connectionString, 2);
  const destination = createSqlDestination(connection, postgresDialect, {
    schema: 'bench',
    prefix: '',
    writeDeleteLog: false,
    widenOverlongStrings: true,
  });
  try {
    await connection.query('DROP SCHEMA IF EXISTS bench CASCADE');
    await destination.ensureTables([account], []);
    const columns = buildTableModel(account, '').columns;
    const supplied = suppliedColumns(columns);
    const staging = postgresDialect.staging;
    if (!staging) throw new Error('The PostgreSQL dialect has no COPY path');
    const table = `"bench"."account"`;

    const names = [...supplied, ...columns.filter((column) => column.source.kind === 'sinkTime')].map((column) =>
      postgresDialect.quote(column.name),
    );
    const now = new Date().toISOString();
    const line = staging.lineEncoder(supplied.map((column) => valueReader(column) as ValueReader));
    const encode = (upsert: RowUpsert): string => `${line(upsert)}\t${now}\t${now}\n`;
    // Through the adapter's own COPY (the apply path's, 64 KiB chunks), straight into the table.
    const copy = async (lines: Iterable<string>): Promise<number> => {
      const started = process.hrtime.bigint();
      await connection.transaction(async (session) =>
        session.copyIn?.(`COPY ${table} (${names.join(', ')}) FROM STDIN`, lines),
      );
      return seconds(started);
    };
    // CPU time of each side, client (this process) and server (its backends, read from /proc when the server
    // is the throwaway one on this machine): other sessions' load stretches wall-clock times, not CPU work.
    const local = server.connectionString !== process.env.PG_CONNECTION_STRING;
    const ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));
    const serverCpu = (pids: number[]): number =>
      pids.reduce((sum, pid) => {
        // Fields 14 and 15 of /proc/<pid>/stat (counted after the parenthesised command): user and system ticks.
        const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
        return sum + (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
      }, 0);
    const cpuOf = async (work: () => Promise<void>): Promise<number> => {
      const { rows: backends } = await connection.query(
        `SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend'`,
      );
      const pids = local ? backends.map((row) => Number(row.pid)) : [];
      const client = process.cpuUsage();
      const before = serverCpu(pids);
      await work();
      const used = process.cpuUsage(client);
      return (used.user + used.system) / 1e6 + serverCpu(pids) - before;
    };
    const reset = async () => {
      await connection.query(`TRUNCATE ${table}`);
      await connection.query(`VACUUM ANALYZE ${table}`);
    };

    const applyAll = async (batch: (upsert: RowUpsert) => RowUpsert) => {
      const started = process.hrtime.bigint();
      let upserted = 0;
      for (let offset = 0; offset < rows; offset += batchSize) {
        const result = await destination.applyBatch(account, {
          upserts: upserts.slice(offset, offset + batchSize).map(batch),
          deletes: [],
        });
        upserted += result.upserted;
      }
      return { seconds: seconds(started), upserted };
    };

    // Raw COPY and apply alternate on an emptied table for `--rounds` rounds. Other work on the same cores
    // (parallel test runs) swings wall-clock times a lot, so the ratio reported is the median of the
    // per-round ratios (each round's two runs are seconds apart), next to the best time of each side.
    const loadBefore = loadavg()[0];
    const copyTimes: number[] = [];
    const insertTimes: number[] = [];
    const copyCpu: number[] = [];
    const insertCpu: number[] = [];
    // Each round's apply is followed by an update pass over the rows it inserted (every version newer).
    const updateTimes: number[] = [];
    const updateCpu: number[] = [];
    const rawCopy = async () => {
      await reset();
      // Mapped and encoded while streaming, with the same code the apply path uses: the target's baseline.
      copyCpu.push(
        await cpuOf(async () => {
          copyTimes.push(
            await copy(
              (function* () {
                for (const upsert of upserts) yield encode(upsert);
              })(),
            ),
          );
        }),
      );
    };
    const apply = async () => {
      await reset();
      insertCpu.push(
        await cpuOf(async () => {
          const inserts = await applyAll((upsert) => upsert);
          if (inserts.upserted !== rows) throw new Error(`Applied ${inserts.upserted} of ${rows} new rows`);
          insertTimes.push(inserts.seconds);
        }),
      );
      updateCpu.push(
        await cpuOf(async () => {
          const updated = await applyAll((upsert) => ({ ...upsert, versionNumber: upsert.versionNumber + rows }));
          if (updated.upserted !== rows) throw new Error(`Updated ${updated.upserted} of ${rows} rows`);
          updateTimes.push(updated.seconds);
        }),
      );
    };
    // Which side goes first alternates, so checkpoints and autovacuum after a pass hit both sides alike.
    for (let round = 0; round < rounds; round++) {
      for (const side of round % 2 === 0 ? [rawCopy, apply] : [apply, rawCopy]) await side();
    }
    const median = (values: number[]): number =>
      [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
    const ratios = copyTimes
      .map((copySeconds, round) => copySeconds / (insertTimes[round] as number))
      .sort((a, b) => a - b);
    const medianRatio = median(ratios);
    const cpuRatios = copyCpu.map((copySeconds, round) => copySeconds / (insertCpu[round] as number));
    const updateRatios = copyTimes
      .map((copySeconds, round) => copySeconds / (updateTimes[round] as number))
      .sort((a, b) => a - b);
    const updateCpuRatios = copyCpu.map((copySeconds, round) => copySeconds / (updateCpu[round] as number));
    // The server's side alone, once: the same lines encoded beforehand (untimed). It leaves the table
    // holding the same rows and versions an apply would, for the update and stale passes below.
    const encoded = upserts.map(encode);
    await reset();
    const copyPreEncodedSeconds = await copy(encoded);
    const copySeconds = minOf(copyTimes);
    const insertSeconds = minOf(insertTimes);
    const updates = await applyAll((upsert) => ({ ...upsert, versionNumber: upsert.versionNumber + rows }));
    const stale = await applyAll((upsert) => upsert);
    if (updates.upserted !== rows || stale.upserted !== 0) {
      throw new Error(`Unexpected apply counts: ${updates.upserted} updated, ${stale.upserted} stale applied`);
    }
    const rate = (seconds: number) => Math.round(rows / seconds);
    return {
      benchmark: 'apply',
      database:
        server.connectionString === process.env.PG_CONNECTION_STRING
          ? 'PG_CONNECTION_STRING'
          : 'PostgreSQL 15 (throwaway, fsync off)',
      rows,
      batchSize,
      rounds,
      loadAverageBefore: Number(loadBefore?.toFixed(1)),
      loadAverageAfter: Number(loadavg()[0]?.toFixed(1)),
      rawCopyRowsPerSecond: rate(copySeconds),
      rawCopyPreEncodedRowsPerSecond: rate(copyPreEncodedSeconds),
      applyInsertRowsPerSecond: rate(insertSeconds),
      applyUpdateRowsPerSecond: rate(updates.seconds),
      applyStaleRowsPerSecond: rate(stale.seconds),
      applyInsertVsCopyMedian: Number(medianRatio.toFixed(2)),
      applyInsertVsCopyPerRound: ratios.map((ratio) => Number(ratio.toFixed(2))),
      applyInsertVsPreEncodedCopy: Number((copyPreEncodedSeconds / insertSeconds).toFixed(2)),
      // One pass each, against the best raw COPY: read them with the load, they swing more than the median above.
      applyUpdateVsCopy: Number((copySeconds / updates.seconds).toFixed(2)),
      applyStaleVsCopy: Number((copySeconds / stale.seconds).toFixed(2)),
      // Per round, the update pass after that round's apply against the same round's raw COPY.
      applyUpdateVsCopyMedian: Number(median(updateRatios).toFixed(2)),
      applyUpdateVsCopyPerRound: updateRatios.map((ratio) => Number(ratio.toFixed(2))),
      ...(local && {
        rawCopyCpuSecondsMedian: Number(median(copyCpu).toFixed(2)),
        applyInsertCpuSecondsMedian: Number(median(insertCpu).toFixed(2)),
        applyInsertVsCopyCpuMedian: Number(median(cpuRatios).toFixed(2)),
        applyUpdateCpuSecondsMedian: Number(median(updateCpu).toFixed(2)),
        applyUpdateVsCopyCpuMedian: Number(median(updateCpuRatios).toFixed(2)),
      }),
      target: 'applyInsertVsCopyMedian >= 0.70',
      targetMet: medianRatio >= 0.7,
    };
  } finally {
    await destination.close();
    await server.stop();
  }
}
