// Where deals go: from a source (the owner's team or role, the customer's region or industry) to the
// furthest stage reached, to the outcome, to the margin returned; links sized by deals or by margin.
import { api, chart, escapeHtml, form, h, keepParams, money, page, params, show, table } from './app.js';

const LEVEL_COLORS = { stage: '#5b97ee', outcome: '#8e6bd8', margin: '#2e9e6b' };
const OUTCOME_COLORS = { 'outcome:won': '#2e9e6b', 'outcome:lost': '#c62828', 'outcome:open': '#9aa5b1' };

function sankey(container, doc, measure) {
  const labels = Object.fromEntries(doc.nodes.map((n) => [n.id, n.label]));
  const value = (link) => (measure === 'margin' ? Number(link.margin) : link.deals);
  const links = doc.links.filter((l) => value(l) > 0);
  const used = new Set(links.flatMap((l) => [l.source, l.target]));
  chart(container, {
    tooltip: {
      trigger: 'item',
      formatter: (p) => (p.dataType === 'edge'
        ? `${escapeHtml(labels[p.data.source])} → ${escapeHtml(labels[p.data.target])}<br>${p.data.deals} deals, margin ${escapeHtml(money(p.data.margin))}`
        : `${escapeHtml(labels[p.name])}: ${measure === 'margin' ? escapeHtml(money(p.value.toFixed(2))) : `${p.value} deals`}`),
    },
    series: [{
      type: 'sankey',
      left: 20,
      right: 140,
      top: 20,
      bottom: 20,
      nodeGap: 10,
      layoutIterations: 0,
      emphasis: { focus: 'adjacency' },
      lineStyle: { color: 'gradient', opacity: 0.35 },
      label: { formatter: (p) => labels[p.name] },
      data: doc.nodes.filter((n) => used.has(n.id)).map((n) => ({
        name: n.id,
        itemStyle: { color: OUTCOME_COLORS[n.id] || LEVEL_COLORS[n.level] || '#f0a030' },
      })),
      links: links.map((l) => ({ source: l.source, target: l.target, value: value(l), deals: l.deals, margin: l.margin })),
    }],
  });
}

function render(doc, measure) {
  const container = h('div', { class: 'chart tall', id: 'sankey-chart' });
  requestAnimationFrame(() => sankey(container, doc, measure));
  const labels = Object.fromEntries(doc.nodes.map((n) => [n.id, `${n.level}: ${n.label}`]));
  return [
    h('p', { class: 'hint' }, `${doc.deals} deals${doc.periods ? ` opened in ${doc.periods[0]}..${doc.periods.at(-1)}` : ''}, by ${doc.by}; levels: ${doc.levels.join(' → ')}. Links sized by ${measure}.`),
    container,
    h('details', {}, h('summary', {}, `Every link (${doc.links.length})`), table([
      { title: 'from', value: (l) => labels[l.source] },
      { title: 'to', value: (l) => labels[l.target] },
      { title: 'deals', num: true, value: (l) => l.deals },
      { title: 'margin', num: true, value: (l) => money(l.margin) },
    ], doc.links, { id: 'links' })),
  ];
}

page('flows', 'Deal flows', async (main) => {
  const q = params();
  const out = h('div', { id: 'result' });
  const load = (values) => {
    keepParams(values);
    show(out, async () => render(await api('/analytics/flows', { query: { by: values.by, periods: values.periods } }), values.measure));
  };
  const controls = form([
    { name: 'by', label: 'Source', type: 'select', value: q.get('by') || 'team', options: [['team', 'owner team'], ['role', 'owner role'], ['region', 'customer region'], ['industry', 'customer industry']] },
    { name: 'periods', label: 'Opened in FROM..TO (empty: all)', value: q.get('periods') || '', size: 18 },
    { name: 'measure', label: 'Link width', type: 'select', value: q.get('measure') || 'deals', options: [['deals', 'deals'], ['margin', 'margin']] },
  ], load);
  main.append(controls.element, out);
  load(controls.values());
});
