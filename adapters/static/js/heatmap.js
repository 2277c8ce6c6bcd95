// Investment against return of closed deals: customer industry across, region down, one product line
// or all of them added up (ratios recomputed from the sums, never averaged).
import { api, chart, escapeHtml, form, h, keepParams, money, number, page, params, percent, show, table } from './app.js';

const METRICS = {
  margin_per_activity: 'margin per activity',
  margin_per_presales_hour: 'margin per presales hour',
  margin: 'margin',
  activities: 'activities',
  presales_hours: 'presales hours',
  win_rate: 'win rate',
  deals: 'closed deals',
};
const ALL = '';

function combine(cells) {
  const sum = (key) => cells.reduce((total, c) => total + Number(c[key]), 0);
  const [deals, won, activities, hours, margin] = ['deals', 'won', 'activities', 'presales_hours', 'margin'].map(sum);
  return {
    deals, won, activities, presales_hours: hours, margin,
    win_rate: deals ? won / deals : null,
    margin_per_activity: activities ? margin / activities : null,
    margin_per_presales_hour: hours ? margin / hours : null,
  };
}

function cellsFor(doc, line) {
  const chosen = doc.cells.filter((c) => line === ALL || c.product_line === line);
  const groups = new Map();
  for (const cell of chosen) {
    const key = `${cell.industry}\u0000${cell.region}`;
    groups.set(key, [...(groups.get(key) || []), cell]);
  }
  return [...groups.values()].map((cells) => ({ industry: cells[0].industry, region: cells[0].region, ...combine(cells) }));
}

const shown = (metric, value) => (value === null ? '–' : metric === 'win_rate' ? percent(value) : ['margin', 'margin_per_activity', 'margin_per_presales_hour'].includes(metric) ? money(value.toFixed(2)) : number(value, metric === 'presales_hours' ? 1 : 0));

function heat(container, cells, metric) {
  const industries = [...new Set(cells.map((c) => c.industry))].sort();
  const regions = [...new Set(cells.map((c) => c.region))].sort();
  const values = cells.filter((c) => c[metric] !== null).map((c) => c[metric]);
  chart(container, {
    tooltip: {
      formatter: (p) => {
        const c = p.data.cell;
        return `${escapeHtml(c.industry)} · ${escapeHtml(c.region)}<br>${escapeHtml(METRICS[metric])}: ${escapeHtml(shown(metric, c[metric]))}` +
          `<br>${c.deals} closed deals, ${c.won} won, ${c.activities} activities, ${number(c.presales_hours)} presales h, margin ${escapeHtml(money(c.margin.toFixed(2)))}`;
      },
    },
    grid: { left: 90, right: 30, top: 20, bottom: 90 },
    xAxis: { type: 'category', data: industries, axisLabel: { rotate: 30 }, splitArea: { show: true } },
    yAxis: { type: 'category', data: regions, splitArea: { show: true } },
    visualMap: {
      min: values.length ? Math.min(...values) : 0,
      max: values.length ? Math.max(...values) : 1,
      calculable: true,
      orient: 'horizontal',
      itemHeight: 320,
      formatter: (v) => shown(metric, v),
      left: 'center',
      bottom: 0,
      inRange: { color: ['#f7fbff', '#9ecae1', '#2171b5', '#08306b'] },
    },
    series: [{
      type: 'heatmap',
      label: { show: true, formatter: (p) => shown(metric, p.data.cell[metric]), fontSize: 11 },
      data: cells.filter((c) => c[metric] !== null).map((c) => ({ value: [industries.indexOf(c.industry), regions.indexOf(c.region), c[metric]], cell: c })),
    }],
  });
}

function render(doc, values) {
  const lines = [...new Set(doc.cells.map((c) => c.product_line))].sort();
  const container = h('div', { class: 'chart tall', id: 'heatmap-chart' });
  const metric = values.metric in METRICS ? values.metric : 'margin_per_activity';
  const line = lines.includes(values.line) ? values.line : ALL;
  const select = h('select', { id: 'product-line', onchange: (e) => { keepParams({ ...values, line: e.target.value }); draw(e.target.value); } },
    h('option', { value: ALL }, 'every product line'), lines.map((l) => h('option', { value: l, selected: l === line }, l)));
  const cellTable = h('div', {});
  const draw = (chosen) => {
    const cells = cellsFor(doc, chosen);
    echarts.getInstanceByDom(container)?.dispose();
    heat(container, cells, metric);
    cellTable.replaceChildren(table([
      { title: 'industry', value: (c) => c.industry },
      { title: 'region', value: (c) => c.region },
      { title: 'closed deals', num: true, value: (c) => c.deals },
      { title: 'won', num: true, value: (c) => c.won },
      { title: 'activities', num: true, value: (c) => c.activities },
      { title: 'presales h', num: true, value: (c) => number(c.presales_hours) },
      { title: 'margin', num: true, value: (c) => money(c.margin.toFixed(2)) },
      { title: METRICS[metric], num: true, value: (c) => shown(metric, c[metric]) },
    ], [...cells].sort((a, b) => (b[metric] ?? -Infinity) - (a[metric] ?? -Infinity)), { id: 'cells' }));
  };
  requestAnimationFrame(() => draw(line));
  const total = doc.total;
  return [
    h('p', { class: 'hint' }, `${total.deals} closed deals${doc.periods ? ` in ${doc.periods[0]}..${doc.periods.at(-1)}` : ''}: ${total.activities} activities, ${total.presales_hours} presales hours, margin ${money(total.margin)}. ${doc.basis}.`),
    h('label', {}, 'Product line ', select),
    container,
    cellTable,
  ];
}

page('heatmap', 'Heat map: investment against return', async (main) => {
  const q = params();
  const out = h('div', { id: 'result' });
  const load = (values) => {
    const line = params().get('line') || ALL;
    keepParams({ ...values, line });
    show(out, async () => render(await api('/analytics/heatmap', { query: { periods: values.periods } }), { ...values, line }));
  };
  const controls = form([
    { name: 'periods', label: 'Closed in FROM..TO (empty: all)', value: q.get('periods') || '', size: 18 },
    { name: 'metric', label: 'Metric', type: 'select', value: q.get('metric') || 'margin_per_activity', options: Object.entries(METRICS) },
  ], load);
  main.append(controls.element, out);
  load(controls.values());
});
