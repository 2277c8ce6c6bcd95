import { api, cards, chart, escapeHtml, form, h, keepParams, link, money, number, page, params, percent, show, table, when } from './app.js';

const dealLink = (id) => link('audit', { subject: 'deal', id }, id);
const repLink = (id) => link('audit', { subject: 'rep', id }, id);

function npsChart(container, scores) {
  chart(container, {
    tooltip: { trigger: 'item', formatter: (p) => `${escapeHtml(p.value[0])}<br>score ${p.value[1]}` },
    grid: { left: 40, right: 20, top: 20, bottom: 30 },
    xAxis: { type: 'time' },
    yAxis: { type: 'value', min: 0, max: 10 },
    series: [{ type: 'line', data: scores.map((s) => [s.occurred_at, s.score]), symbolSize: 8 }],
  });
}

function profile(doc) {
  const orders = doc.orders;
  const nps = doc.nps;
  return [
    h('h2', { id: 'customer-name' }, `${doc.name} (${doc.customer_id})`),
    h('p', { class: 'hint' }, `${doc.industry} · ${doc.region} · registered ${when(doc.registered_at)}`),
    h('div', { class: 'tags' }, doc.tags.length ? doc.tags.map((t) => h('span', { class: 'tag' }, t)) : h('span', { class: 'hint' }, 'no tags')),
    cards([
      ['orders', orders.count, `${orders.first} first · ${orders.repeat} repeat · ${orders.cancelled} cancelled`],
      ['order amount', money(orders.amount), `margin ${money(orders.gross_margin)}`],
      ['NPS', nps.mean ?? '–', `${nps.count} scores · net ${nps.net ?? '–'}`],
      ['complaints', doc.complaints.length, ''],
      ['activities', doc.activities.count, `last ${when(doc.activities.last_at)}`],
      ['deals', doc.deals.length, `${doc.deals.filter((d) => d.stage === 'won').length} won`],
    ]),
  ];
}

function deals(doc) {
  return table([
    { title: 'deal', value: (d) => dealLink(d.deal_id) },
    { title: 'owner', value: (d) => repLink(d.owner_rep_id) },
    { title: 'stage', value: (d) => d.stage },
    { title: 'expected', num: true, value: (d) => money(d.expected_amount) },
    { title: 'opened', value: (d) => when(d.opened_at) },
    { title: 'won / lost', value: (d) => (d.won_at ? `won ${when(d.won_at)}` : d.lost_at ? `lost ${when(d.lost_at)}: ${d.lost_reason}` : '') },
    { title: 'orders', value: (d) => d.order_ids.join(', ') },
  ], doc.deals, { id: 'deals', caption: 'Deals' });
}

function orders(history) {
  return table([
    { title: 'order', value: (o) => link('audit', { subject: 'order', id: o.order_id }, o.order_id) },
    { title: 'deal', value: (o) => dealLink(o.deal_id) },
    { title: 'signed on', value: (o) => o.signed_on },
    { title: 'amount', num: true, value: (o) => money(o.amount) },
    { title: 'margin', num: true, value: (o) => money(o.gross_margin) },
    { title: 'margin rate', num: true, value: (o) => percent(o.margin_rate, 1) },
    { title: 'first / repeat', value: (o) => (o.first_order ? 'first' : 'repeat') },
    { title: 'cancelled', value: (o) => (o.cancelled ? `${when(o.cancelled_at)}: ${o.cancel_reason}` : '') },
  ], history.orders, { id: 'orders', caption: `Orders${history.since || history.until ? ` ${history.since || '…'} to ${history.until || '…'}` : ''}` });
}

function contacts(doc) {
  return table([
    { title: 'contact', value: (c) => c.name },
    { title: 'title now', value: (c) => c.title },
    { title: 'title history', value: (c) => c.titles.map((t) => h('div', {}, `${t.since.slice(0, 10)} ${t.title}`)) },
    { title: 'phone', value: (c) => c.phone || '' },
    { title: 'left', value: (c) => (c.left_company ? `left ${when(c.left_at)}` : '') },
  ], doc.contacts, { caption: 'Contacts' });
}

function actionTags(doc) {
  const seen = Object.entries(doc.activities.action_tags).sort((a, b) => b[1] - a[1]);
  return h('div', { class: 'panel' }, h('h3', {}, 'Action tags in notes and transcripts'),
    h('div', { class: 'tags' }, seen.length ? seen.map(([tag, n]) => h('span', { class: 'tag' }, `${tag} ×${n}`)) : h('span', { class: 'hint' }, 'none')));
}

async function suggestions(id) {
  const panel = h('div', { class: 'panel', id: 'suggestions' });
  show(panel, async () => {
    const found = await api(`/customers/${encodeURIComponent(id)}/tag-suggestions`);
    return [h('h3', {}, 'Tags to consider'), found.suggestions.length
      ? h('ul', {}, found.suggestions.map((s) => h('li', {}, h('strong', {}, s.tag), ` (${number(s.score, 2)}): `, s.because.join('; '))))
      : h('p', { class: 'hint' }, 'none')];
  });
  return panel;
}

async function render(values) {
  const doc = await api(`/customers/${encodeURIComponent(values.id)}`, { query: { since: values.since, until: values.until } });
  const chartBox = h('div', { class: 'chart short', id: 'nps-chart' });
  if (doc.nps.scores.length) requestAnimationFrame(() => npsChart(chartBox, doc.nps.scores));
  return [
    ...profile(doc),
    h('div', { class: 'row' },
      h('div', {}, h('h3', {}, 'NPS scores'), doc.nps.scores.length ? chartBox : h('p', { class: 'hint' }, 'no score recorded')),
      actionTags(doc)),
    deals(doc),
    orders(doc.order_history),
    contacts(doc),
    doc.complaints.length ? table([
      { title: 'when', value: (c) => when(c.occurred_at) },
      { title: 'note', value: (c) => c.note },
    ], doc.complaints, { caption: 'Complaints' }) : null,
    await suggestions(values.id),
  ];
}

page('customer', 'Customer 360', async (main) => {
  const q = params();
  const out = h('div', { id: 'result' });
  const load = (values) => {
    keepParams(values);
    if (!values.id) {
      out.replaceChildren(h('p', { class: 'hint' }, 'Enter a customer id, or follow a customer link from a statement, the SLA board or an audit trail.'));
      return;
    }
    show(out, () => render(values));
  };
  const controls = form([
    { name: 'id', label: 'Customer id', value: q.get('id') || '', placeholder: 'c-000001' },
    { name: 'since', label: 'Orders signed from', type: 'date', value: q.get('since') || '' },
    { name: 'until', label: 'until', type: 'date', value: q.get('until') || '' },
  ], load);
  main.append(controls.element, out);
  load(controls.values());
});
