// The console's router: hash routes (the page itself is one static file) and the sign-in form.
import { api, describeError, signedIn, signIn, signOut } from './api.js';
import { h, notify, show } from './dom.js';
import { failuresPage } from './pages/failures.js';
import { healthPage } from './pages/health.js';
import { profilePage } from './pages/profile.js';
import { profileFormPage, profilesPage } from './pages/profiles.js';

const main = document.getElementById('main');
let leavePage = () => {};
// While the sign-in form checks a key, its own 401 is shown on the form rather than sending the admin back to it.
let checkingKey = false;

const routes = [
  [/^#\/profiles\/new$/, () => profileFormPage(main)],
  [/^#\/profiles\/([a-z0-9-]+)\/edit$/, (name) => profileFormPage(main, name)],
  [/^#\/profiles\/([a-z0-9-]+)\/failures$/, (name) => failuresPage(main, name)],
  [/^#\/profiles\/([a-z0-9-]+)$/, (name) => profilePage(main, name)],
  [/^#\/health$/, () => healthPage(main)],
  [/^(#\/profiles)?$/, () => profilesPage(main)],
];

function signInPage() {
  document.getElementById('nav').hidden = true;
  const key = h('input', { id: 'key', type: 'password', autocomplete: 'off', required: true });
  const problem = h('p', { id: 'key-error', class: 'field-error', hidden: true });
  const form = h(
    'form',
    {
      onsubmit: async (event) => {
        event.preventDefault();
        signIn(key.value.trim());
        checkingKey = true;
        try {
          await api('GET', 'profiles');
          checkingKey = false;
          route();
        } catch (error) {
          checkingKey = false;
          signOut();
          problem.hidden = false;
          problem.textContent =
            error.status === 401 ? 'This key was refused: paste a function key of this app.' : describeError(error);
          key.setAttribute('aria-invalid', 'true');
          key.focus();
        }
      },
    },
    h('label', { for: 'key' }, 'Function key'),
    h(
      'p',
      { class: 'hint', id: 'key-hint' },
      'Locally: the key `npm start` printed. In Azure: a function key of the app (az functionapp keys list), after signing in with Microsoft Entra ID. It stays in this tab only (sessionStorage).',
    ),
    key,
    problem,
    h('button', { type: 'submit' }, 'Sign in'),
  );
  key.setAttribute('aria-describedby', 'key-hint key-error');
  show(main, h('h2', {}, 'Sign in'), form);
}

async function route() {
  leavePage();
  leavePage = () => {};
  notify('');
  if (!signedIn()) return signInPage();
  document.getElementById('nav').hidden = false;
  for (const [pattern, page] of routes) {
    const match = pattern.exec(location.hash);
    if (!match) continue;
    try {
      leavePage = (await page(...match.slice(1))) ?? (() => {});
    } catch (error) {
      show(main, h('h2', {}, 'Something went wrong'), h('p', { class: 'error' }, describeError(error)));
    }
    return;
  }
  show(main, h('h2', {}, 'Not found'), h('p', {}, 'No such page. '), h('a', { href: '#/profiles' }, 'Profiles'));
}

window.addEventListener('hashchange', route);
window.addEventListener('dvx-unauthorized', () => {
  if (checkingKey) return;
  signOut();
  route();
});
document.getElementById('sign-out').addEventListener('click', () => {
  signOut();
  route();
});
route();
