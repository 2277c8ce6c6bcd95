// A subject's audit trail, and its state as of any instant: the slider walks the instants at which its
// events happened (business time) or were recorded, and asks the API for the state at that instant.
import { api, form, h, keepParams, link, page, params, show, table, when } from './app.js';

const SUBJECTS = ['deal', 'customer', 'rep', 'order', 'contact', 'requirement', 'contract', 'period'];
const LINKS = {
  deal_id: (id) => link('audit', { subject: 'deal', id }, id),
  customer_id: (id) => link('customer', { id }, id),
  order_id: (id) => link('audit', { subject: 'order', id }, id),
  rep_id: (id) => link('audit', { subject: 'rep', id }, id),
  owner_rep_id: (id) => link('audit', { subject: 'rep', id }, id),
};

const moment = (event, by) => (by === 'business' && event.occurred_at ? event.occurred_at : event.recorded_at);

function text(key, item) {
  if (item === null || item === undefined) return '–';
  if (typeof item === 'object') return h('code', {}, JSON.stringify(item));
  return LINKS[key] && typeof item === 'string' ? LINKS[key](item) : String(item);
}

function changes(event) {
  return h('dl', { class: 'kv' }, Object.entries(event.changes || {})
    .filter(([key, item]) => key !== 'occurred_at' && item !== null && item !== undefined)
    .map(([key, item]) => [h('dt', {}, key), h('dd', {}, text(key, item))]));
}

function stateView(state) {
  if (!state) return h('p', { class: 'hint' }, 'This subject has no aggregate state: its events are shown as they are.');
  return h('dl', { class: 'kv', id: 'state' }, Object.entries(state).map(([key, item]) => [h('dt', {}, key), h('dd', { 'data-key': key }, text(key, item))]));
}

function timeline(events, shown, by) {
  return table([
    { title: by === 'business' ? 'occurred' : 'recorded', cell: () => 'nowrap', value: (e) => when(moment(e, by)) },
    { title: 'event', value: (e) => e.type },
    { title: 'actor', value: (e) => e.actor || '' },
    { title: 'what changed', value: changes },
  ], events, { id: 'timeline', rowClass: (e) => (shown.has(e.event_id) ? 'past' : 'future') });
}

function trailView(trail, values) {
  const by = values.by;
  const instants = [...new Set(trail.events.map((e) => moment(e, by)))].sort((a, b) => Date.parse(a) - Date.parse(b));
  const slider = h('input', { type: 'range', id: 'as-of', min: 0, max: instants.length - 1, step: 1, value: instants.length - 1 });
  const label = h('output', { id: 'as-of-label', for: 'as-of' });
  const stateBox = h('div', { class: 'panel', id: 'state-panel' });
  const events = h('div', { id: 'events' });
  const at = () => instants[Number(slider.value)];

  // Each move of the slider asks again; only the answer to the latest question is shown.
  let asked = 0;
  const load = () => {
    const instant = at();
    const index = Number(slider.value);
    const question = ++asked;
    const latest = () => question === asked;
    label.value = `as of ${when(instant)} (${by} time) · instant ${index + 1} of ${instants.length}`;
    show(stateBox, async () => {
      const asOf = await api(`/audit/${encodeURIComponent(values.subject)}/${encodeURIComponent(values.id)}`, { query: { as_of: instant, by } });
      if (latest()) {
        const shown = new Set(asOf.events.map((e) => e.event_id));
        events.replaceChildren(
          h('h2', {}, `Events (${asOf.events.length} of ${trail.events.length} by then)`),
          timeline(trail.events, shown, by),
        );
      }
      return [h('h3', {}, `State as of ${when(instant)}`), stateView(asOf.state)];
    }, latest);
  };
  slider.addEventListener('input', () => { label.value = `as of ${when(at())} (${by} time) · instant ${Number(slider.value) + 1} of ${instants.length}`; });
  slider.addEventListener('change', load);
  load();
  return [
    h('h2', {}, `${values.subject} ${trail.id}: ${trail.events.length} events`),
    h('div', { class: 'slider' }, h('span', {}, 'first'), slider, h('span', {}, 'now'), label),
    h('div', { class: 'audit-row' }, stateBox, events),
  ];
}

page('audit', 'Audit timeline', async (main) => {
  const q = params();
  const out = h('div', { id: 'result' });
  const load = (values) => {
    keepParams(values);
    if (!values.id) {
      out.replaceChildren(h('p', { class: 'hint' }, 'Pick a subject and its id (a deal, a customer, a rep, an order, a period YYYY-MM …).'));
      return;
    }
    show(out, async () => trailView(await api(`/audit/${encodeURIComponent(values.subject)}/${encodeURIComponent(values.id)}`), values));
  };
  const controls = form([
    { name: 'subject', label: 'Subject', type: 'select', value: q.get('subject') || 'deal', options: SUBJECTS.map((s) => [s, s]) },
    { name: 'id', label: 'Id', value: q.get('id') || '', placeholder: 'd-000001' },
    { name: 'by', label: 'Time', type: 'select', value: q.get('by') || 'business', options: [['business', 'business (occurred)'], ['recorded', 'recorded']] },
  ], load);
  main.append(controls.element, out);
  load(controls.values());
});
