// The create/edit form. Validation is the API's: a 400 names each field (the profile's zod schema,
// shared/profile/profile.ts), and the message is shown next to the input for that field.
import { api, ApiError, describeError } from '../api.js';
import { h, notify } from '../dom.js';

const SQL_KINDS = ['pglite', 'postgres', 'mssql'];
const list = (text) =>
  text
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
const secretReference = (text) => (text.startsWith('https://') ? { keyVaultSecretUri: text } : { appSetting: text });
const referenceText = (ref) => ref?.keyVaultSecretUri ?? ref?.appSetting ?? '';

/** One labelled input with its hint and its error slot; `field` is the JSON path the API names in problems. */
function field(id, label, field, input, hint) {
  input.id = id;
  input.dataset.field = field;
  const error = h('p', { class: 'field-error', id: `${id}-error`, hidden: true });
  const hintElement = hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : undefined;
  input.setAttribute('aria-describedby', [hint ? `${id}-hint` : '', `${id}-error`].join(' ').trim());
  return h('div', {}, h('label', { for: id }, label), hintElement, input, error);
}

class FieldProblem extends Error {
  constructor(field, reason) {
    super(reason);
    this.field = field;
  }
}

function jsonField(text, field) {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new FieldProblem(field, `not valid JSON: ${error.message}`);
  }
}

function bodyOf(form) {
  const value = (id) => form.querySelector(`#${id}`).value.trim();
  const kind = value('destination-kind');
  let destination;
  if (kind === 'lake') {
    destination = { kind: 'lake', ...jsonField(value('lake') || '{}', 'destination.storage') };
  } else {
    destination = { kind: 'sql', dialect: kind, schema: value('schema') || undefined, prefix: value('prefix') };
    if (kind !== 'pglite') destination.connection = secretReference(value('connection'));
  }
  return {
    description: value('description') || undefined,
    source: { environmentUrl: value('environment-url'), auth: jsonField(value('auth'), 'source.auth') },
    tables: list(value('tables')),
    relationships: list(value('relationships')),
    destination,
    retryCount: Number(value('retry-count')),
    retryIntervalSeconds: Number(value('retry-interval')),
    writeDeleteLog: form.querySelector('#delete-log').checked,
  };
}

/** Shows each problem at the input whose field is the longest prefix of the problem's field; the rest above the form. */
function showProblems(form, summary, problems) {
  const inputs = [...form.querySelectorAll('[data-field]')];
  const unplaced = [];
  for (const problem of problems) {
    const owner = inputs
      .filter((input) => {
        const f = input.dataset.field;
        return problem.field === f || problem.field.startsWith(`${f}.`) || problem.field.startsWith(`${f}[`);
      })
      .sort((a, b) => b.dataset.field.length - a.dataset.field.length)[0];
    if (!owner) {
      unplaced.push(`${problem.field}: ${problem.reason}`);
      continue;
    }
    const slot = form.querySelector(`#${owner.id}-error`);
    slot.hidden = false;
    slot.textContent = [slot.textContent, problem.reason].filter(Boolean).join('; ');
    owner.setAttribute('aria-invalid', 'true');
  }
  summary.textContent = unplaced.join('; ');
  form.querySelector('[aria-invalid="true"]')?.focus();
}

function clearProblems(form, summary) {
  for (const slot of form.querySelectorAll('.field-error')) {
    slot.hidden = true;
    slot.textContent = '';
  }
  for (const input of form.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
  summary.textContent = '';
}

function sourceFields(existing, nameInput) {
  return [
    field('name', 'Name', 'name', nameInput, '3–40 lower-case letters, digits and hyphens.'),
    field('description', 'Description', 'description', h('input', { value: existing?.description ?? '' })),
    field(
      'environment-url',
      'Dataverse Web API URL',
      'source.environmentUrl',
      h('input', {
        value: existing?.source.environmentUrl ?? '',
        placeholder: 'https://org.crm.dynamics.com/api/data/v9.2/',
      }),
    ),
    field(
      'auth',
      'Source authentication (JSON)',
      'source.auth',
      h('textarea', { rows: 3 }, JSON.stringify(existing?.source.auth ?? { kind: 'managed-identity' })),
      'managed-identity, client-secret {tenantId, clientId, secret} or static-token {token}; secrets as {"appSetting": "DVX_SECRET_…"} or a Key Vault URI.',
    ),
    field(
      'tables',
      'Tables',
      'tables',
      h('input', { value: (existing?.tables ?? []).join(', ') }),
      'Logical names, separated by commas.',
    ),
    field(
      'relationships',
      'M:N relationships',
      'relationships',
      h('input', { value: (existing?.relationships ?? []).join(', ') }),
    ),
  ];
}

function destinationFields(destination) {
  const kind = destination.kind === 'lake' ? 'lake' : destination.dialect;
  const { kind: _kind, ...lakeSettings } = destination;
  const options = [...SQL_KINDS, 'lake'].map((k) => h('option', { value: k, selected: k === kind }, k));
  return [
    field('destination-kind', 'Destination', 'destination', h('select', {}, ...options)),
    field(
      'connection',
      'Connection (SQL)',
      'destination.connection',
      h('input', { value: referenceText(destination.connection) }),
      'An app setting name (DVX_SECRET_…) or a Key Vault secret URI; not used by pglite.',
    ),
    field('schema', 'Schema (SQL)', 'destination.schema', h('input', { value: destination.schema ?? 'dbo' })),
    field('prefix', 'Table prefix (SQL)', 'destination.prefix', h('input', { value: destination.prefix ?? '' })),
    field(
      'lake',
      'Lake settings (JSON)',
      'destination.storage',
      h('textarea', { rows: 3 }, kind === 'lake' ? JSON.stringify(lakeSettings) : ''),
      'For a lake: {"storage": {"accountUrl": "https://…"}, "container": "…", "mode": "appendOnly"}.',
    ),
  ];
}

function retryFields(existing) {
  return [
    field(
      'retry-count',
      'Retries of a failing batch',
      'retryCount',
      h('input', { type: 'number', value: existing?.retryCount ?? 12 }),
    ),
    field(
      'retry-interval',
      'Seconds between retries',
      'retryIntervalSeconds',
      h('input', { type: 'number', value: existing?.retryIntervalSeconds ?? 5 }),
    ),
    h(
      'label',
      {},
      h('input', { type: 'checkbox', id: 'delete-log', checked: existing?.writeDeleteLog ?? false }),
      ' Write a delete log',
    ),
  ];
}

async function submitProfile(form, summary, name) {
  clearProblems(form, summary);
  let body;
  try {
    body = bodyOf(form);
  } catch (error) {
    if (error instanceof FieldProblem)
      return showProblems(form, summary, [{ field: error.field, reason: error.message }]);
    throw error;
  }
  if (name === '') return showProblems(form, summary, [{ field: 'name', reason: 'enter a name' }]);
  try {
    await api('PUT', `profiles/${encodeURIComponent(name)}`, body);
    notify(`Profile ${name} saved`);
    location.hash = '#/profiles';
  } catch (error) {
    if (error instanceof ApiError && error.problems.length > 0) showProblems(form, summary, error.problems);
    else summary.textContent = describeError(error);
  }
}

export function profileForm(existing) {
  const summary = h('p', { class: 'error', role: 'alert' });
  const nameInput = h('input', { value: existing?.name ?? '', readOnly: Boolean(existing), autocomplete: 'off' });
  const form = h(
    'form',
    { novalidate: true },
    summary,
    ...sourceFields(existing, nameInput),
    ...destinationFields(existing?.destination ?? { kind: 'sql', dialect: 'pglite' }),
    ...retryFields(existing),
    h('button', { type: 'submit' }, existing ? 'Save' : 'Create'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    submitProfile(form, summary, nameInput.value.trim());
  });
  return form;
}
