// Failed records of a profile: newest first (the API's order), filter by table, view one, download as JSON or
// CSV (each record read through the API's failure download), resync the selected ones or all.
import { api, describeError } from '../api.js';
import { h, notify, saveFile, show, when } from '../dom.js';

const CSV_COLUMNS = ['key', 'profile', 'table', 'id', 'changeType', 'failedAt', 'attempt', 'reason'];
const csvCell = (value) => {
  const text =
    value === undefined || value === null ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
};
export const toCsv = (records) =>
  [CSV_COLUMNS.join(','), ...records.map((r) => CSV_COLUMNS.map((c) => csvCell(r[c])).join(','))].join('\r\n') + '\r\n';

const downloadOne = (name, key) =>
  api('GET', `profiles/${name}/failures/${key.split('/').map(encodeURIComponent).join('/')}`);

function recordRow(name, record, detail) {
  const view = async () => {
    const full = await downloadOne(name, record.key);
    detail.replaceChildren(
      h('h3', {}, `Record ${record.table} ${record.id}`),
      h('p', {}, `Reason: ${full.reason}`),
      h('pre', {}, JSON.stringify(full, null, 2)),
    );
  };
  const select = h('input', {
    type: 'checkbox',
    value: record.key,
    'aria-label': `Select ${record.table} ${record.id}`,
  });
  return h(
    'tr',
    {},
    h('td', {}, select),
    h('td', {}, when(record.failedAt)),
    h('td', {}, record.table),
    h('td', {}, record.id),
    h('td', {}, record.changeType),
    h('td', {}, h('button', { type: 'button', 'aria-label': `View ${record.id}`, onclick: view }, 'View')),
  );
}

function recordsTable(body) {
  const headings = ['Select', 'Failed at', 'Table', 'Id', 'Change', 'Record'];
  return h(
    'table',
    {},
    h('caption', {}, 'Newest first'),
    h('thead', {}, h('tr', {}, ...headings.map((t) => h('th', { scope: 'col' }, t)))),
    body,
  );
}

export async function failuresPage(main, name) {
  let records = [];
  let next;
  const filter = h('select', { id: 'table-filter' });
  const body = h('tbody');
  const detail = h('section', { 'aria-live': 'polite', id: 'detail' });
  const selected = () => [...body.querySelectorAll('input[type=checkbox]:checked')].map((box) => box.value);

  const load = async (more = false) => {
    const query = new URLSearchParams();
    if (filter.value) query.set('table', filter.value);
    if (more && next) query.set('after', next);
    const page = await api('GET', `profiles/${name}/failures?${query}`);
    records = more ? [...records, ...page.records] : page.records;
    next = page.next;
    const current = filter.value;
    filter.replaceChildren(
      h('option', { value: '' }, 'All tables'),
      ...Object.entries(page.countsByTable).map(([table, count]) =>
        h('option', { value: table, selected: table === current }, `${table} (${count})`),
      ),
    );
    body.replaceChildren(
      ...(records.length === 0
        ? [h('tr', {}, h('td', { colspan: 6 }, 'No failed records.'))]
        : records.map((record) => recordRow(name, record, detail))),
    );
    moreButton.hidden = !next;
  };
  const moreButton = h('button', { type: 'button', hidden: true, onclick: () => load(true) }, 'Show older');
  filter.addEventListener('change', () => load());

  const download = async (format) => {
    const keys = selected().length > 0 ? selected() : records.map((r) => r.key);
    const full = await Promise.all(keys.map((key) => downloadOne(name, key)));
    if (format === 'json') saveFile(`${name}-failed-records.json`, 'application/json', JSON.stringify(full, null, 2));
    else saveFile(`${name}-failed-records.csv`, 'text/csv', toCsv(full));
  };
  const resync = async (all) => {
    const keys = selected();
    if (!all && keys.length === 0) return notify('Select the records to resync first.', true);
    try {
      const body = all ? (filter.value ? { table: filter.value } : {}) : { keys };
      const result = await api('POST', `profiles/${name}/failures/resync`, body);
      await load();
      notify(`Resync: ${result.resolved} resolved, ${result.stillFailing.length} still failing.`);
    } catch (error) {
      notify(describeError(error), true);
    }
  };

  await load();
  show(
    main,
    h('h2', {}, `Failed records of ${name}`),
    h('p', {}, h('a', { href: `#/profiles/${name}` }, `Back to ${name}`)),
    h('label', { for: 'table-filter' }, 'Table'),
    filter,
    h(
      'p',
      { class: 'actions' },
      h('button', { type: 'button', onclick: () => resync(false) }, 'Resync selected'),
      h('button', { type: 'button', onclick: () => resync(true) }, 'Resync all'),
      h('button', { type: 'button', onclick: () => download('json') }, 'Download JSON'),
      h('button', { type: 'button', onclick: () => download('csv') }, 'Download CSV'),
    ),
    h(
      'p',
      { class: 'hint' },
      'Downloads take the selected records, or every record listed when none is selected. Resync all takes every failed record of the chosen table, or of all tables.',
    ),
    recordsTable(body),
    moreButton,
    detail,
  );
}
