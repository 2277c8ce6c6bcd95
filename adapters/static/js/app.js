// What every dashboard page shares: the token, calls to the API, safe DOM building, the navigation
// bar, problem messages, tables and charts. Data only ever becomes text nodes (never markup), so
// names with '<' or Chinese characters show as they are.

const TOKEN = 'salesledger.token';
const WHO = 'salesledger.whoami';

export const PAGES = [
  ['funnel', 'Funnel'],
  ['sla', 'SLA board'],
  ['statement', 'Commission'],
  ['customer', 'Customer 360'],
  ['audit', 'Audit timeline'],
  ['whatif', 'What-if'],
  ['heatmap', 'Heat map'],
  ['flows', 'Flows'],
];

export const token = () => sessionStorage.getItem(TOKEN);

export function signIn(secret, who) {
  sessionStorage.setItem(TOKEN, secret);
  sessionStorage.setItem(WHO, JSON.stringify(who));
}

export function signOut() {
  sessionStorage.removeItem(TOKEN);
  sessionStorage.removeItem(WHO);
}

function toLogin(reason) {
  const here = location.pathname.split('/').pop() + location.search;
  const query = new URLSearchParams({ next: here });
  if (reason) query.set('reason', reason);
  location.replace(`index.html?${query}`);
}

export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.rule || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }
}

export async function api(path, { method = 'GET', query = {}, body, secret = token() } = {}) {
  const url = new URL(path, location.origin);
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') url.searchParams.set(key, value);
  }
  const headers = { Authorization: `Bearer ${secret}`, Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

// -- building the page -------------------------------------------------------------------------

export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) element.addEventListener(key.slice(2), value);
    else if (key === 'class') element.className = value;
    else element.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

// For the one place that takes markup: ECharts tooltip formatters.
export const escapeHtml = (text) => String(text ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c]);

export function link(page, query, ...children) {
  const search = new URLSearchParams(Object.entries(query).filter(([, v]) => v != null && v !== ''));
  return h('a', { href: `${page}.html?${search}` }, ...children);
}

export const params = () => new URLSearchParams(location.search);

export function keepParams(values) {
  const query = new URLSearchParams(Object.entries(values).filter(([, v]) => v != null && v !== ''));
  history.replaceState(null, '', `${location.pathname}?${query}`);
}

export function problemBox(error) {
  if (error instanceof ApiError) {
    const p = error.problem;
    return h(
      'div',
      { class: 'problem', role: 'alert', 'data-status': error.status },
      h('strong', {}, `${error.status} ${p.title || 'Error'}`),
      h('span', { class: 'rule' }, p.field ? `${p.field}: ${p.rule ?? ''}` : p.rule || p.detail || ''),
    );
  }
  return h('div', { class: 'problem', role: 'alert' }, h('strong', {}, 'Error'), h('span', {}, String(error)));
}

// `current` says whether this work is still what the page wants shown: an answer that arrives after a
// later request was made (a slider moved on) must not overwrite the later one's.
export async function show(target, work, current = () => true) {
  target.replaceChildren(h('p', { class: 'loading' }, 'Loading…'));
  try {
    const shown = [await work()].flat().filter((node) => node !== null && node !== undefined);
    if (current()) target.replaceChildren(...shown);
  } catch (error) {
    if (!current()) return;
    target.replaceChildren(problemBox(error));
    if (!(error instanceof ApiError)) console.error(error);
  }
}

export function whoami() {
  return JSON.parse(sessionStorage.getItem(WHO) || 'null');
}

function scope(who) {
  return who.rep_id || who.team || 'every row';
}

function navigation(current, who) {
  const period = params().get('period');
  return h(
    'nav',
    { class: 'top' },
    h('a', { class: 'brand', href: 'index.html' }, 'salesledger'),
    PAGES.map(([page, title]) =>
      h('a', { href: period ? `${page}.html?period=${period}` : `${page}.html`, class: page === current ? 'current' : '' }, title),
    ),
    h('span', { class: 'who', title: who.token_id }, `${who.role} · ${scope(who)}`),
    h('button', { type: 'button', class: 'link', onclick: () => { signOut(); location.href = 'index.html'; } }, 'Sign out'),
  );
}

// Every page: signed in, or off to the login page; then the navigation and the page's own content.
export async function page(name, title, render) {
  if (!token()) return toLogin();
  let who;
  try {
    who = await api('/whoami');
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      signOut();
      return toLogin('expired');
    }
    document.getElementById('page').replaceChildren(problemBox(error));
    return;
  }
  document.title = `${title} · salesledger`;
  document.getElementById('nav').replaceChildren(navigation(name, who));
  const main = document.getElementById('page');
  main.replaceChildren(h('h1', {}, title));
  await render(main, who);
}

// -- forms -------------------------------------------------------------------------------------

// fields: [{name, label, type ('text', 'month', 'date', 'number', 'select'), value, options, placeholder}]
export function form(fields, onSubmit, submit = 'Show') {
  const inputs = {};
  const element = h(
    'form',
    { class: 'controls', onsubmit: (event) => { event.preventDefault(); onSubmit(values()); } },
    fields.map((field) => {
      let input;
      if (field.type === 'select') {
        input = h('select', { name: field.name, id: `f-${field.name}` },
          field.options.map(([value, text]) => h('option', { value, selected: value === field.value }, text)));
      } else {
        input = h('input', {
          name: field.name,
          id: `f-${field.name}`,
          type: field.type || 'text',
          value: field.value ?? '',
          placeholder: field.placeholder,
          size: field.size,
          step: field.step,
        });
      }
      inputs[field.name] = input;
      return h('label', {}, h('span', {}, field.label), input);
    }),
    h('button', { type: 'submit' }, submit),
  );
  const values = () => Object.fromEntries(Object.entries(inputs).map(([name, input]) => [name, input.value.trim()]));
  return { element, inputs, values };
}

// -- formats -----------------------------------------------------------------------------------

export function previousPeriod(date = new Date()) {
  const d = new Date(date.getFullYear(), date.getMonth() - 1, 1);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}`;
}

// Decimal strings stay exact: only separators are added.
export function money(text) {
  if (text === null || text === undefined) return '–';
  const [whole, fraction] = String(text).split('.');
  const sign = whole.startsWith('-') ? '-' : '';
  const grouped = whole.replace('-', '').replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${sign}${grouped}${fraction !== undefined ? `.${fraction}` : ''}`;
}

export const percent = (value, digits = 0) =>
  value === null || value === undefined ? '–' : `${(Number(value) * 100).toFixed(digits)}%`;

export const number = (value, digits = 1) =>
  value === null || value === undefined ? '–' : Number(value).toFixed(digits);

export function when(iso) {
  if (!iso) return '–';
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(?::[\d.]+)?(Z|[+-]\d{2}:\d{2})?$/.exec(iso);
  return match ? `${match[1]} ${match[2]}${match[3] && match[3] !== 'Z' ? ` ${match[3]}` : match[3] ? ' UTC' : ''}` : iso;
}

// -- tables and charts ---------------------------------------------------------------------------

// columns: [{title, value: row => text or node, num: true, cell: row => class}]
export function table(columns, rows, { caption, rowClass, id } = {}) {
  return h(
    'table',
    { id },
    caption ? h('caption', {}, caption) : null,
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { class: c.num ? 'num' : '' }, c.title)))),
    h(
      'tbody',
      {},
      rows.length === 0
        ? h('tr', {}, h('td', { colspan: columns.length, class: 'empty' }, 'Nothing here.'))
        : rows.map((row) =>
          h('tr', { class: rowClass ? rowClass(row) : '' },
            columns.map((c) => h('td', { class: [c.num ? 'num' : '', c.cell ? c.cell(row) : ''].join(' ').trim() }, c.value(row))))),
    ),
  );
}

export function chart(container, option) {
  const instance = echarts.init(container, null, { renderer: 'canvas' });
  instance.setOption({ textStyle: { fontFamily: getComputedStyle(document.body).fontFamily }, ...option });
  new ResizeObserver(() => instance.resize()).observe(container);
  return instance;
}

export function cards(items) {
  return h('div', { class: 'cards' }, items.map(([label, value, extra]) =>
    h('div', { class: 'card' }, h('span', { class: 'label' }, label), h('span', { class: 'value' }, value), extra ? h('span', { class: 'extra' }, extra) : null)));
}
