/**
 * One chaos run: the product as processes (Azurite, the emulator, PostgreSQL, a host that gets SIGKILLed)
 * exporting the same org to SQL and to the lake, while a seeded workload changes accounts, contacts and
 * user roles and every fault in faults.ts fires. The host is killed once mid-initial-sync and `deltaKills`
 * times mid-delta. After quiescence the run checks, and throws with the seed when any check fails:
 * destination = source row by row and column by column (SQL and lake), no deleted row resurrected, no update lost, the SQL
 * DeleteLog agreeing with the tables, nothing dead-lettered, and the failed-records store holding exactly
 * the rows the run forced the destination to reject, each with its reason (then resynced once fixed).
 */
import { QueueServiceClient } from '@azure/storage-queue';
import { sampleCounts, seededRandom } from '../../local/sample-org';
import { sourceVersions } from '../../local/verify';
import { createWorkload, isRowOperation, type Operation, type WorkloadTable } from '../../local/workload/workload';
import type { HostProcess } from '../../local/host/process';
import { PROCESS_EMULATOR_TOKEN, startProcessProduct, type ProcessProduct } from '../support/product-processes';
import { waitFor } from '../support/wait';
import {
  differences,
  readLakeDestination,
  readSqlDestination,
  rowsBehindTheirDeleteLog,
  withChaosClient,
  wrongValues,
  type DestinationState,
} from './destinations';
import {
  startConnectionDrops,
  startDataverseFaults,
  startQueueChaos,
  type FaultCounts,
  type RunningFault,
} from './faults';

export interface ChaosOptions {
  seed: number;
  operations: number;
  /** Sample-org size: enough rows that the initial sync takes many pages. */
  accounts: number;
  /** Initial-sync page size of the hosts. */
  pageSize: number;
  /** Host kills while the tables are in their delta phase (one more comes mid-initial-sync). */
  deltaKills: number;
  /** Account updates the SQL destination is made to reject at the end. */
  forcedFailures: number;
  /** How long the destinations get to catch up once the workload and the faults stop. */
  convergenceTimeoutMs: number;
  log: (line: string) => void;
}

export interface ChaosReport {
  seed: number;
  operations: number;
  operationsByKind: Record<string, number>;
  durationMs: number;
  convergedAfterMs: number;
  kills: { initialSync: number; delta: number };
  faults: FaultCounts & { throttled: number; unavailable: number };
  forcedFailures: number;
  checkedRows: number;
}

const ORG_SEED = 3;
const SQL_PROFILE = 'chaos-sql';
const LAKE_PROFILE = 'chaos-lake';
const SCHEMA = 'chaos';
const CONTAINER = 'chaos-lake';
const TABLES = ['account', 'contact', 'systemuser', 'role', 'systemuserroles'];
const WORKLOAD_TABLES: WorkloadTable[] = ['account', 'contact'];
const REJECT_CONSTRAINT = 'chaos_rejected_names';
const REJECTED_PREFIX = 'chaos-rejected';
/**
 * The hosts' queue lock: a killed host's batches come back after it (30 s by default would dominate a short
 * run). A handler slower than this is delivered to another handler at the same time: one more duplicate.
 */
const LOCK_SECONDS = 10;

interface StatusBody {
  tables: Array<{ table: string; phase: string; initialRowsCopied: number }>;
}

interface FailuresBody {
  countsByTable: Record<string, number>;
  records: Array<{ key: string; table: string; id: string; changeType: string }>;
}

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const banner = `chaos seed=${options.seed} operations=${options.operations}`;
  options.log(banner);
  const started = Date.now();
  const hostLines: string[] = [];
  const faultErrors: string[] = [];
  const product = await startProcessProduct({
    emulator: { seed: ORG_SEED, accounts: options.accounts },
    pageSize: options.pageSize,
    lockSeconds: LOCK_SECONDS,
    log: (line) => {
      hostLines.push(line);
      if (hostLines.length > 300) hostLines.shift();
    },
  });
  try {
    return await chaos(product, options, started, faultErrors);
  } catch (error) {
    options.log(`${banner} FAILED (replay with CHAOS_SEED=${options.seed} CHAOS_OPERATIONS=${options.operations})`);
    options.log(`last host log lines:\n${hostLines.slice(-60).join('\n')}`);
    if (faultErrors.length > 0) options.log(`fault injector errors (not fatal): ${faultErrors.slice(-10).join('\n')}`);
    throw new Error(`${banner}: ${(error as Error).message}`, { cause: error });
  } finally {
    await product.stop();
  }
}

async function chaos(
  product: ProcessProduct,
  options: ChaosOptions,
  started: number,
  faultErrors: string[],
): Promise<ChaosReport> {
  const random = seededRandom(`chaos:${options.seed}`);
  const progress = (what: string) => options.log(`${((Date.now() - started) / 1000).toFixed(1)} s: ${what}`);
  product.env.DVX_SECRET_LAKE_CONNECTION = product.azurite.connectionString;
  const crashes: string[] = [];
  const watch = (started: HostProcess) => {
    void started.exited.then((code) => {
      if (code !== 'SIGKILL') crashes.push(`host process ${started.pid} exited by itself (${code})`);
    });
    return started;
  };
  let host = watch(await product.startHost());
  const call = async (method: string, route: string, body?: unknown) => {
    if (crashes.length > 0) throw new Error(crashes.join('; '));
    // A 503 is the API's "try again" (a dropped database session during activation, say), so the admin retries.
    let response = await host.call(method, route, body);
    for (let retry = 1; response.status === 503 && retry <= 5; retry += 1) {
      await new Promise((resolve) => setTimeout(resolve, 1_000 * retry));
      response = await host.call(method, route, body);
    }
    if (response.status >= 300)
      throw new Error(`${method} ${route} answered ${response.status}: ${JSON.stringify(response.body)}`);
    return response.body;
  };
  const kills = { initialSync: 0, delta: 0 };
  const restart = async () => {
    await host.kill();
    host = watch(await product.startHost());
  };

  const source = {
    tables: TABLES.filter((table) => table !== 'systemuserroles'),
    relationships: ['systemuserroles_association'],
    writeDeleteLog: true,
    // The product's default retry rules: transient faults of this size must be absorbed by retries, not end as
    // failed records (the test helper's quick 2 × 0 s would turn a few dropped connections in a row into failures).
    retryCount: 12,
    retryIntervalSeconds: 5,
  };
  await call('PUT', `profiles/${SQL_PROFILE}`, product.postgresProfile(SCHEMA, source));
  await call('PUT', `profiles/${LAKE_PROFILE}`, {
    ...product.postgresProfile(SCHEMA, source),
    destination: {
      kind: 'lake',
      storage: { connectionString: { appSetting: 'DVX_SECRET_LAKE_CONNECTION' } },
      container: CONTAINER,
      mode: 'appendOnly',
    },
  });

  const counts: FaultCounts = {
    faultSchedules: 0,
    connectionsDropped: 0,
    duplicatesSent: 0,
    delayedDuplicatesSent: 0,
    originalsDelayed: 0,
  };
  const report = (error: unknown) => faultErrors.push(String(error));
  const queues = QueueServiceClient.fromConnectionString(product.azurite.connectionString);
  const changesQueue = queues.getQueueClient(product.env.CHANGES_QUEUE as string);
  const faults: RunningFault[] = [
    startDataverseFaults(product.emulator, seededRandom(`chaos:${options.seed}:dataverse`), counts, report),
    startConnectionDrops(
      product.postgres.connectionString,
      seededRandom(`chaos:${options.seed}:destination`),
      counts,
      report,
    ),
    startQueueChaos(changesQueue, seededRandom(`chaos:${options.seed}:queue`), counts, report),
  ];

  const orgCounts = sampleCounts(options.accounts);
  const workload = createWorkload({
    baseUrl: product.emulator.baseUrl,
    token: PROCESS_EMULATOR_TOKEN,
    seed: options.seed,
    sampleSeed: ORG_SEED,
    rows: { account: orgCounts.account, contact: orgCounts.contact },
    userRoles: orgCounts,
  });
  const done: Operation[] = [];
  const runOperations = async (until: number) => {
    while (done.length < until) done.push(await workload.step());
  };

  await call('POST', `profiles/${SQL_PROFILE}/activate`);
  await call('POST', `profiles/${LAKE_PROFILE}/activate`);
  const status = async (profile: string) => (await call('GET', `profiles/${profile}/status`)) as StatusBody;

  // Mid-initial-sync: the workload starts at once, and the host dies as soon as some pages are copied but not all.
  const initialOperations = Math.floor(options.operations * 0.1);
  const duringInitial = runOperations(initialOperations);
  const midInitial = await waitFor(
    'the initial sync to be part-way',
    async () => {
      const tables = (await status(SQL_PROFILE)).tables;
      const copied = tables.reduce((sum, table) => sum + table.initialRowsCopied, 0);
      return copied > 0 && tables.some((table) => table.phase === 'initial') ? tables : undefined;
    },
    60_000,
  );
  await restart();
  kills.initialSync++;
  progress(
    `killed the host mid-initial-sync: ${midInitial.map((table) => `${table.table} ${table.phase} ${table.initialRowsCopied}`).join(', ')}`,
  );
  await duringInitial;
  const allDelta = async () => {
    for (const profile of [SQL_PROFILE, LAKE_PROFILE]) {
      const tables = (await status(profile)).tables;
      if (tables.length !== TABLES.length || tables.some((table) => table.phase !== 'delta')) return undefined;
    }
    return true;
  };
  await waitFor('every table of both profiles in delta phase', allDelta, 180_000);
  progress(`initial sync done; ${done.length} operations so far`);
  // The forced failures' cause, in place before any forced row is written.
  await withChaosClient(product.postgres.connectionString, (client) =>
    client.query(
      `ALTER TABLE "${SCHEMA}"."account" ADD CONSTRAINT ${REJECT_CONSTRAINT} CHECK (name NOT LIKE '${REJECTED_PREFIX}%')`,
    ),
  );

  // Mid-delta: kills spread over the rest of the workload, each while the workload keeps writing.
  const remaining = options.operations - initialOperations;
  for (let kill = 1; kill <= options.deltaKills; kill++) {
    await runOperations(initialOperations + Math.floor((remaining * kill) / (options.deltaKills + 1)));
    if (!(await allDelta())) throw new Error('a table left the delta phase before a mid-delta kill');
    const killing = restart();
    await runOperations(done.length + 20);
    await killing;
    kills.delta++;
    progress(`killed the host mid-delta (${kills.delta} of ${options.deltaKills}) at operation ${done.length}`);
  }
  await runOperations(options.operations);
  await Promise.all(faults.map((fault) => fault.stop()));
  progress(`workload done (${done.length} operations); faults stopped`);

  // Quiescence: every change applied, and every delayed duplicate delivered too.
  const quiet = Date.now();
  const forced = new Map<string, number>();
  const expectedSql = (table: string) => {
    const versions = sourceVersions(product.emulator, table);
    if (table === 'account') for (const [id, before] of forced) versions.set(id, before);
    return versions;
  };
  let last: string[] = [];
  let reported = Date.now();
  const converged = async () => {
    const [sql, lake] = await Promise.all([
      readSqlDestination(product.postgres.connectionString, SCHEMA, TABLES),
      readLakeDestination(product.azurite.connectionString, CONTAINER, TABLES),
    ]);
    last = TABLES.flatMap((table) => [
      ...differences(table, expectedSql(table), sql.versions.get(table)).map((text) => `sql: ${text}`),
      ...differences(table, sourceVersions(product.emulator, table), lake.versions.get(table)).map(
        (text) => `lake: ${text}`,
      ),
    ]);
    const failures = (await call('GET', `profiles/${SQL_PROFILE}/failures?pageSize=1000`)) as FailuresBody;
    const recorded = new Set(failures.records.map((record) => record.id));
    last.push(
      ...[...forced.keys()]
        .filter((id) => !recorded.has(id))
        .map((id) => `sql: forced failure of account ${id} not recorded yet`),
    );
    if (last.length > 0 && Date.now() - reported > 10_000) {
      reported = Date.now();
      progress(`waiting: ${last.length} differences, first: ${last.slice(0, 3).join('; ')}`);
    }
    return last.length === 0 ? { sql, lake } : undefined;
  };
  const quiescence = async (what: string) => {
    await waitFor(`both destinations to equal the source ${what}`, converged, options.convergenceTimeoutMs).catch(
      (error: Error) => {
        throw new Error(`${error.message}; ${last.length} differences, first: ${last.slice(0, 8).join('; ')}`);
      },
    );
    await waitFor(
      'the change queue to be empty',
      async () => ((await changesQueue.getProperties()).approximateMessagesCount === 0 ? true : undefined),
      60_000,
    );
  };
  await quiescence('after the workload');
  const convergedAfterMs = Date.now() - quiet;
  progress(`converged ${convergedAfterMs} ms after the workload stopped`);

  // The forced failures, once all else is applied (so each forced row's destination version is known): accounts
  // renamed to what the SQL destination refuses; the lake takes them.
  const alive = [...workload.alive('account')];
  while (forced.size < Math.min(options.forcedFailures, alive.length)) {
    const id = alive[Math.floor(random() * alive.length)] as string;
    if (forced.has(id)) continue;
    forced.set(id, sourceVersions(product.emulator, 'account').get(id) ?? 0);
    const response = await fetch(`${product.emulator.baseUrl}accounts(${id})`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${PROCESS_EMULATOR_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: `${REJECTED_PREFIX} ${forced.size}` }),
    });
    if (response.status !== 204) throw new Error(`the forced rename of account ${id} answered ${response.status}`);
  }
  await quiescence('after the forced failures');

  const final = await converged();
  if (!final)
    throw new Error(`the destinations drifted after converging (late duplicates?): ${last.slice(0, 8).join('; ')}`);
  const sqlRows = await readSqlDestination(product.postgres.connectionString, SCHEMA, TABLES, { rows: true });
  const problems = [
    ...wrongValues(product.emulator, sqlRows, 'sql', TABLES),
    ...wrongValues(product.emulator, final.lake, 'lake', TABLES),
    ...resurrectedOrLost(done, workload.alive.bind(workload), final.sql, 'sql', expectedSql),
    ...resurrectedOrLost(done, workload.alive.bind(workload), final.lake, 'lake', (table) =>
      sourceVersions(product.emulator, table),
    ),
    ...userRoleProblems(workload.userRoles(), final.sql, 'sql'),
    ...userRoleProblems(workload.userRoles(), final.lake, 'lake'),
    ...(await rowsBehindTheirDeleteLog(product.postgres.connectionString, SCHEMA, TABLES)).map(
      (text) => `DeleteLog: ${text}`,
    ),
    ...(await deadLettered(queues, product.env.CHANGES_QUEUE as string)),
    ...(await failureProblems(call, forced)),
  ];
  problems.push(...crashes);
  if (problems.length > 0)
    throw new Error(`${problems.length} invariant violations: ${problems.slice(0, 10).join('; ')}`);

  // Once the cause is gone, resync brings the forced rows in and empties the store: SQL = source, no exceptions.
  await withChaosClient(product.postgres.connectionString, (client) =>
    client.query(`ALTER TABLE "${SCHEMA}"."account" DROP CONSTRAINT ${REJECT_CONSTRAINT}`),
  );
  const resynced = (await call('POST', `profiles/${SQL_PROFILE}/failures/resync`, {})) as {
    resolved: number;
    stillFailing: unknown[];
  };
  if (resynced.resolved !== forced.size || resynced.stillFailing.length > 0)
    throw new Error(`resync of the forced failures answered ${JSON.stringify(resynced)}`);
  const afterResync = await readSqlDestination(product.postgres.connectionString, SCHEMA, TABLES, { rows: true });
  const stillDifferent = [
    ...TABLES.flatMap((table) =>
      differences(table, sourceVersions(product.emulator, table), afterResync.versions.get(table)),
    ),
    ...wrongValues(product.emulator, afterResync, 'sql', TABLES),
  ];
  if (stillDifferent.length > 0)
    throw new Error(`after resync the SQL destination still differs: ${stillDifferent.slice(0, 8).join('; ')}`);
  const remainingFailures = (await call('GET', `profiles/${SQL_PROFILE}/failures`)) as FailuresBody;
  if (remainingFailures.records.length > 0)
    throw new Error(`after resync the failed-records store still holds ${JSON.stringify(remainingFailures.records)}`);

  const operationsByKind: Record<string, number> = {};
  for (const operation of done)
    operationsByKind[`${operation.table} ${operation.kind}`] =
      (operationsByKind[`${operation.table} ${operation.kind}`] ?? 0) + 1;
  return {
    seed: options.seed,
    operations: done.length,
    operationsByKind,
    durationMs: Date.now() - started,
    convergedAfterMs,
    kills,
    faults: { ...counts, throttled: product.emulator.stats.throttled, unavailable: product.emulator.stats.unavailable },
    forcedFailures: forced.size,
    checkedRows: [...final.sql.versions.values()].reduce((sum, versions) => sum + versions.size, 0),
  };
}

/**
 * Resurrected deletes: ids whose last operation was a delete, found in the destination. Lost updates: ids
 * the workload wrote last, held at another version than the source's (or missing).
 */
function resurrectedOrLost(
  done: Operation[],
  alive: (table: WorkloadTable) => ReadonlySet<string>,
  destination: DestinationState,
  name: string,
  expected: (table: string) => Map<string, number>,
): string[] {
  const problems: string[] = [];
  for (const table of WORKLOAD_TABLES) {
    const living = alive(table);
    const held = destination.versions.get(table) ?? new Map<string, number>();
    const source = expected(table);
    const touched = new Set(
      done
        .filter(isRowOperation)
        .filter((operation) => operation.table === table)
        .map((operation) => operation.id),
    );
    for (const id of touched) {
      if (!living.has(id) && held.has(id))
        problems.push(`${name}: ${table} ${id} deleted last, but present (resurrected)`);
      if (living.has(id) && held.get(id) !== source.get(id))
        problems.push(`${name}: ${table} ${id} at ${held.get(id)}, source ${source.get(id)} (lost update)`);
    }
  }
  return problems;
}

function userRoleProblems(expected: ReadonlySet<string>, destination: DestinationState, name: string): string[] {
  return [
    ...[...expected].filter((key) => !destination.userRoles.has(key)).map((key) => `${name}: user role ${key} missing`),
    ...[...destination.userRoles]
      .filter((key) => !expected.has(key))
      .map((key) => `${name}: user role ${key} disassociated last, but present`),
  ];
}

async function deadLettered(queues: QueueServiceClient, queueName: string): Promise<string[]> {
  const poison = queues.getQueueClient(`${queueName}-poison`);
  if (!(await poison.exists())) return [];
  const { approximateMessagesCount } = await poison.getProperties();
  return approximateMessagesCount
    ? [`${approximateMessagesCount} change batch(es) dead-lettered to ${poison.name}`]
    : [];
}

/** The SQL profile's store holds one upsert per forced row, each with the constraint as its reason; the lake's holds nothing. */
async function failureProblems(
  call: (method: string, route: string) => Promise<unknown>,
  forced: Map<string, number>,
): Promise<string[]> {
  const problems: string[] = [];
  const lake = (await call('GET', `profiles/${LAKE_PROFILE}/failures`)) as FailuresBody;
  if (lake.records.length > 0)
    problems.push(`lake failed records nobody forced: ${JSON.stringify(lake.records.slice(0, 5))}`);
  const sql = (await call('GET', `profiles/${SQL_PROFILE}/failures?pageSize=1000`)) as FailuresBody;
  const unforced = sql.records.filter(
    (record) => record.table !== 'account' || !forced.has(record.id) || record.changeType !== 'upsert',
  );
  if (unforced.length > 0) problems.push(`sql failed records nobody forced: ${JSON.stringify(unforced.slice(0, 5))}`);
  const recorded = new Set(sql.records.map((record) => record.id));
  for (const id of forced.keys())
    if (!recorded.has(id)) problems.push(`sql: the forced failure of account ${id} is not in the failed-records store`);
  for (const record of sql.records) {
    const full = (await call('GET', `profiles/${SQL_PROFILE}/failures/${record.key}`)) as {
      reason?: string;
      errorClass?: string;
    };
    if (!full.reason?.includes(REJECT_CONSTRAINT) || full.errorClass !== 'data')
      problems.push(`sql: failed record ${record.key} has reason ${JSON.stringify(full.reason)} (${full.errorClass})`);
  }
  return problems;
}
