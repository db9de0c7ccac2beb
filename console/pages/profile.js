// One profile: per table phase, rows, initial-sync progress, lag, last sync and failed records, refreshed every
// few seconds, with lag and throughput charts. The status API keeps no history, so the charts show the samples
// this page took while it was open (up to an hour), kept in memory only.
import { api, describeError } from '../api.js';
import { lineChart } from '../chart.js';
import { h, notify, show, when } from '../dom.js';

const REFRESH_MS = Number(sessionStorage.getItem('dvx-refresh-ms') ?? 3000);
const HOUR_MS = 3_600_000;
const history = new Map();

function sample(name, status) {
  const samples = (history.get(name) ?? []).filter((s) => s.time > Date.now() - HOUR_MS);
  const rows = status.tables.reduce((sum, t) => sum + t.rowsApplied + t.initialRowsCopied, 0);
  const lag = Math.max(0, ...status.tables.map((t) => t.lagSeconds));
  samples.push({ time: Date.now(), rows, lag });
  history.set(name, samples);
  return samples;
}

const throughput = (samples) =>
  samples.slice(1).map((s, i) => {
    const before = samples[i];
    return [s.time, Math.max(0, (s.rows - before.rows) / Math.max(0.001, (s.time - before.time) / 1000))];
  });

// Dataverse gives no row total without a count per table, so a table still copying shows an indeterminate bar
// with the rows copied so far; the profile's bar counts tables done, which the initial sync reports.
function progressCell(table) {
  const copying = table.phase === 'initial' || table.phase === 'resync';
  const label = copying
    ? `copying: ${table.initialRowsCopied} rows so far`
    : table.phase === 'delta'
      ? `copied: ${table.initialRowsCopied} rows`
      : 'not started';
  const bar = copying
    ? h('progress', { 'aria-label': `${table.table}: ${label}` })
    : h('progress', { max: 1, value: table.phase === 'delta' ? 1 : 0, 'aria-label': `${table.table}: ${label}` });
  return h('td', {}, bar, ' ', label);
}

function profileProgress(status) {
  const progress = status.initialSync?.progress;
  if (!progress || typeof progress.tables !== 'number') return 'Initial sync: not run.';
  return h(
    'span',
    {},
    `Initial sync ${status.initialSync.runtimeStatus}: ${progress.tablesDone} of ${progress.tables} tables done, ${progress.rowsCopied} rows copied `,
    h('progress', { max: progress.tables, value: progress.tablesDone, 'aria-label': 'Tables copied' }),
  );
}

function tableRow(name, table) {
  return h(
    'tr',
    { 'data-table': table.table },
    h('th', { scope: 'row' }, table.table),
    h('td', { class: 'phase' }, table.phase),
    h('td', { class: 'number' }, table.rowsInDestination ?? 'unknown'),
    progressCell(table),
    h('td', { class: 'number' }, `${table.lagSeconds} s`),
    h('td', {}, when(table.lastSuccessfulSyncAt)),
    h('td', { class: 'number' }, h('a', { href: `#/profiles/${name}/failures` }, String(table.failedRecords))),
    h('td', {}, table.lastError ? `${table.lastError.errorClass}: ${table.lastError.message}` : 'none'),
    h(
      'td',
      {},
      h(
        'button',
        {
          type: 'button',
          onclick: async () => {
            if (!window.confirm(`Copy ${table.table} again from its first row?`)) return;
            try {
              await api('POST', `profiles/${name}/tables/${table.table}/resync`);
              notify(`Resync of ${table.table} started`);
            } catch (error) {
              notify(describeError(error), true);
            }
          },
        },
        `Resync ${table.table}`,
      ),
    ),
  );
}

export async function profilePage(main, name) {
  const summary = h('p', { id: 'summary' });
  const body = h('tbody');
  const charts = h('div', { id: 'charts' });
  const refresh = async () => {
    const status = await api('GET', `profiles/${name}/status`);
    const samples = sample(name, status);
    summary.replaceChildren(`State: ${status.state}. Activated ${when(status.activatedAt)}. `, profileProgress(status));
    body.replaceChildren(...status.tables.map((table) => tableRow(name, table)));
    charts.replaceChildren(
      lineChart({
        title: 'Lag (largest of the tables)',
        unit: 's',
        points: samples.map((s) => [s.time, s.lag]),
        windowMs: HOUR_MS,
      }),
      lineChart({ title: 'Throughput (rows written)', unit: 'rows/s', points: throughput(samples), windowMs: HOUR_MS }),
    );
  };
  await refresh();
  const headings = [
    'Table',
    'Phase',
    'Rows in destination',
    'Initial copy',
    'Lag',
    'Last sync',
    'Failed records',
    'Last error',
    'Actions',
  ];
  show(
    main,
    h('h2', {}, `Profile ${name}`),
    summary,
    h(
      'p',
      {},
      h('a', { href: `#/profiles/${name}/failures` }, 'Failed records'),
      ' · ',
      h('a', { href: `#/profiles/${name}/edit` }, 'Edit'),
    ),
    h(
      'table',
      {},
      h('caption', {}, 'Tables'),
      h('thead', {}, h('tr', {}, ...headings.map((t) => h('th', { scope: 'col' }, t)))),
      body,
    ),
    h('h3', {}, 'The last hour'),
    h('p', { class: 'hint' }, 'Sampled by this page while it is open; the product keeps no history.'),
    charts,
  );
  const timer = setInterval(() => refresh().catch((error) => notify(describeError(error), true)), REFRESH_MS);
  return () => clearInterval(timer);
}
