// Health: each dependency with its state, latency and last error, from GET /api/health.
import { api } from '../api.js';
import { h, show } from '../dom.js';

export async function healthPage(main) {
  const report = await api('GET', 'health');
  show(
    main,
    h('h2', {}, 'Health'),
    h('p', {}, `Overall: ${report.status}. Checked ${new Date().toLocaleString()}.`),
    h(
      'table',
      {},
      h('caption', {}, 'Dependencies'),
      h(
        'thead',
        {},
        h('tr', {}, ...['Dependency', 'State', 'Latency', 'Last error'].map((t) => h('th', { scope: 'col' }, t))),
      ),
      h(
        'tbody',
        {},
        ...report.dependencies.map((dependency) =>
          h(
            'tr',
            {},
            h('th', { scope: 'row' }, dependency.name),
            h('td', {}, dependency.status),
            h('td', { class: 'number' }, `${dependency.latencyMs} ms`),
            h('td', {}, dependency.detail ?? 'none'),
          ),
        ),
      ),
    ),
  );
}
