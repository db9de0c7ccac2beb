// Profiles: the list with state, tables, destination and last error; create and edit; activate, deactivate, delete.
import { api, describeError } from '../api.js';
import { h, notify, show } from '../dom.js';
import { profileForm } from './profile-form.js';

const lastErrorOf = (status) =>
  status.tables
    .filter((table) => table.lastError)
    .map((table) => ({ table: table.table, ...table.lastError }))
    .sort((a, b) => b.at.localeCompare(a.at))[0];

async function act(label, method, path, after) {
  try {
    await api(method, path);
    notify(label);
    await after();
  } catch (error) {
    notify(describeError(error), true);
  }
}

function profileRow(profile, status, refresh) {
  const lastError = status ? lastErrorOf(status) : undefined;
  const active = profile.state === 'active';
  const name = profile.name;
  return h(
    'tr',
    {},
    h('th', { scope: 'row' }, h('a', { href: `#/profiles/${name}` }, name)),
    h('td', {}, profile.state),
    h('td', {}, profile.tables.join(', ')),
    h('td', {}, profile.destination),
    h('td', {}, lastError ? `${lastError.table}: ${lastError.errorClass}: ${lastError.message}` : 'none'),
    h(
      'td',
      {},
      h('a', { href: `#/profiles/${name}/edit`, 'aria-label': `Edit ${name}` }, 'Edit'),
      ' ',
      h('a', { href: `#/profiles/${name}/failures`, 'aria-label': `Failures of ${name}` }, 'Failures'),
      ' ',
      active
        ? h(
            'button',
            {
              type: 'button',
              onclick: () => act(`${name} deactivated`, 'POST', `profiles/${name}/deactivate`, refresh),
            },
            `Deactivate ${name}`,
          )
        : h(
            'button',
            { type: 'button', onclick: () => act(`${name} activated`, 'POST', `profiles/${name}/activate`, refresh) },
            `Activate ${name}`,
          ),
      h(
        'button',
        {
          type: 'button',
          disabled: active,
          title: active ? 'Deactivate it first' : undefined,
          onclick: () => {
            // The destination's tables are kept; only the profile goes.
            if (!window.confirm(`Delete profile '${name}'? Its destination tables are kept.`)) return;
            act(`${name} deleted`, 'DELETE', `profiles/${name}`, refresh);
          },
        },
        `Delete ${name}`,
      ),
    ),
  );
}

export async function profilesPage(main) {
  const body = h('tbody');
  const refresh = async () => {
    const { profiles } = await api('GET', 'profiles');
    const statuses = await Promise.all(
      profiles.map((profile) => api('GET', `profiles/${profile.name}/status`).catch(() => undefined)),
    );
    body.replaceChildren(
      ...(profiles.length === 0
        ? [h('tr', {}, h('td', { colspan: 6 }, 'No profiles yet.'))]
        : profiles.map((profile, index) => profileRow(profile, statuses[index], refresh))),
    );
  };
  await refresh();
  show(
    main,
    h('h2', {}, 'Export profiles'),
    h('p', { class: 'actions' }, h('a', { href: '#/profiles/new' }, 'Create a profile')),
    h(
      'table',
      {},
      h('caption', {}, 'Profiles'),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ...['Name', 'State', 'Tables', 'Destination', 'Last error', 'Actions'].map((t) =>
            h('th', { scope: 'col' }, t),
          ),
        ),
      ),
      body,
    ),
  );
}

export async function profileFormPage(main, name) {
  const existing = name ? await api('GET', `profiles/${name}`) : undefined;
  show(main, h('h2', {}, name ? `Edit ${name}` : 'Create a profile'), profileForm(existing));
}
