import { api, ApiError, h, PAGES, problemBox, signIn, signOut, token, whoami } from './app.js';

// Where each role starts: the first page its token may read.
const HOME = { rep: 'statement', finance: 'statement', presales: 'customer', manager: 'funnel' };

const status = document.getElementById('status');
const query = new URLSearchParams(location.search);

function destination(who) {
  const next = query.get('next') || '';
  // Only a page of this dashboard, never another origin.
  return /^[a-z]+\.html(\?.*)?$/.test(next) ? next : `${HOME[who.role] || 'funnel'}.html`;
}

async function use(secret) {
  status.replaceChildren(h('p', { class: 'loading' }, 'Checking the token…'));
  try {
    const who = await api('/whoami', { secret });
    signIn(secret, who);
    location.replace(destination(who));
  } catch (error) {
    signOut();
    status.replaceChildren(problemBox(error instanceof ApiError ? error : new Error(String(error))));
  }
}

function signedIn(who) {
  return h('div', { class: 'panel', id: 'signed-in' },
    h('p', {}, `Signed in as ${who.role} (${who.rep_id || who.team || 'every row'}).`),
    h('ul', {}, PAGES.map(([page, title]) => h('li', {}, h('a', { href: `${page}.html` }, title)))),
    h('button', { type: 'button', class: 'link', onclick: () => { signOut(); location.replace('index.html'); } }, 'Sign out'));
}

document.getElementById('login').addEventListener('submit', (event) => {
  event.preventDefault();
  const secret = document.getElementById('token').value.trim();
  if (secret) use(secret);
});

// `salesledger demo` prints a link carrying its token after '#', which never reaches the server.
const fromLink = new URLSearchParams(location.hash.slice(1)).get('token');
if (fromLink) {
  history.replaceState(null, '', location.pathname + location.search);
  use(fromLink);
} else if (query.get('reason') === 'expired') {
  status.replaceChildren(h('div', { class: 'problem', role: 'alert' }, 'The token is unknown or revoked: sign in again.'));
} else if (token() && whoami()) {
  status.replaceChildren(signedIn(whoami()));
}
