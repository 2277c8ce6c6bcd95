import { api, chart, escapeHtml, form, h, keepParams, link, number, page, params, percent, previousPeriod, show, table } from './app.js';

const FLAG = '#c62828';
const COLORS = ['#2f6fdb', '#3f83e8', '#5b97ee', '#7aabf2', '#9bc0f6', '#bcd5fa'];

function flagged(row, metric) {
  return row.flags.includes(metric);
}

function mark(text, on, title) {
  return on ? h('span', { title }, `${text} !`) : text;
}

function funnelChart(container, rows) {
  chart(container, {
    tooltip: {
      trigger: 'item',
      formatter: (p) => `${escapeHtml(p.name)}: ${p.value} entered${p.data.flags.length ? `<br>worse than benchmark: ${escapeHtml(p.data.flags.join(', '))}` : ''}`,
    },
    series: [{
      type: 'funnel',
      sort: 'none',
      left: '10%',
      width: '80%',
      minSize: '8%',
      gap: 2,
      label: { position: 'inside', formatter: (p) => `${p.name}  ${p.value}${p.data.flags.length ? ' !' : ''}` },
      data: rows.map((row, i) => ({
        name: row.stage,
        value: row.entered,
        flags: row.flags,
        itemStyle: { color: row.flags.length ? FLAG : COLORS[i % COLORS.length] },
      })),
    }],
  });
}

function stageTable(report) {
  const grouped = report.by !== 'all';
  const columns = [
    ...(grouped ? [{ title: report.by, value: (r) => r.group }] : []),
    { title: 'stage', value: (r) => r.stage },
    { title: 'entered', num: true, value: (r) => r.entered },
    { title: 'advanced', num: true, value: (r) => r.advanced },
    { title: 'regressed', num: true, value: (r) => r.regressed },
    { title: 'lost', num: true, value: (r) => r.lost },
    {
      title: 'conversion', num: true, cell: (r) => (flagged(r, 'conversion') ? 'flag' : ''),
      value: (r) => mark(percent(r.conversion), flagged(r, 'conversion'), `benchmark ${percent(r.benchmark.conversion)}`),
    },
    {
      title: 'mean h', num: true, cell: (r) => (flagged(r, 'time_in_stage') ? 'flag' : ''),
      value: (r) => mark(number(r.time_in_stage_hours.mean), flagged(r, 'time_in_stage'), `benchmark ${r.benchmark.days_in_stage} days`),
    },
    { title: 'p50 h', num: true, value: (r) => number(r.time_in_stage_hours.p50) },
    { title: 'p90 h', num: true, value: (r) => number(r.time_in_stage_hours.p90) },
    {
      title: 'stalled', num: true, cell: (r) => (flagged(r, 'stalled') ? 'flag' : ''),
      value: (r) => mark(r.stalled, flagged(r, 'stalled'), `stalled past ${r.benchmark.stall_days} days`),
    },
    { title: 'blocked', num: true, value: (r) => r.blocked },
    {
      title: 'missing at the gate',
      value: (r) => Object.entries(r.missing).map(([item, count]) => h('div', {}, `${item} ×${count}`)),
    },
  ];
  return table(columns, report.stages, { id: 'stages', rowClass: (r) => (r.flags.length ? 'flagged' : '') });
}

function followUp(report) {
  return table([
    { title: 'group', value: (r) => r.group },
    { title: 'assigned', num: true, value: (r) => r.assigned },
    { title: 'touched within SLA', num: true, value: (r) => r.touched_within_sla },
    { title: 'late', num: true, value: (r) => r.touched_late },
    { title: 'untouched', num: true, value: (r) => r.untouched },
    { title: 'overdue recorded', num: true, value: (r) => r.overdue_recorded },
    {
      title: 'rate', num: true, cell: (r) => (r.flags.length ? 'flag' : ''),
      value: (r) => mark(percent(r.rate), r.flags.length > 0, `benchmark ${percent(r.benchmark)}`),
    },
  ], report.follow_up, { id: 'follow-up' });
}

function stalledDeals(report) {
  const stalled = report.stages.flatMap((r) => r.stalled_deals.map((d) => ({ ...d, stage: r.stage, group: r.group })));
  if (!stalled.length) return null;
  stalled.sort((a, b) => b.days - a.days);
  return table([
    { title: 'deal', value: (d) => link('audit', { subject: 'deal', id: d.deal_id }, d.deal_id) },
    { title: 'stage', value: (d) => d.stage },
    { title: 'owner', value: (d) => d.owner },
    { title: 'days in stage', num: true, value: (d) => number(d.days) },
  ], stalled.slice(0, 30), { caption: `Stalled deals (${stalled.length}; longest first)` });
}

function render(report) {
  const groups = [...new Set(report.stages.map((r) => r.group))];
  const flaggedStages = report.stages.filter((r) => r.flags.length);
  const container = h('div', { class: 'chart', id: 'funnel-chart' });
  const picker = groups.length > 1
    ? h('select', { id: 'chart-group', onchange: (e) => draw(e.target.value) }, groups.map((g) => h('option', { value: g }, g)))
    : null;
  const draw = (group) => {
    echarts.getInstanceByDom(container)?.dispose();
    funnelChart(container, report.stages.filter((r) => r.group === group));
  };
  requestAnimationFrame(() => draw(groups[0]));
  return [
    h('p', { class: 'hint' }, `Period ${report.period}, ${report.by === 'all' ? 'whole funnel' : `per ${report.by}`}; stalled as of ${report.stalled_as_of}. `,
      flaggedStages.length ? h('strong', { class: 'flag-count' }, `${flaggedStages.length} stage rows worse than benchmark (!).`) : 'No stage worse than benchmark.'),
    picker ? h('label', {}, 'Chart for ', picker) : null,
    container,
    h('h2', {}, 'Stages'),
    stageTable(report),
    h('h2', {}, 'First-touch follow-up'),
    followUp(report),
    stalledDeals(report),
  ];
}

page('funnel', 'Funnel health', async (main, who) => {
  const q = params();
  const byDefault = who.role === 'rep' ? 'rep' : who.role === 'manager' ? 'team' : '';
  const out = h('div', { id: 'result' });
  const load = (values) => {
    keepParams(values);
    show(out, async () => render(await api('/funnel', { query: values })));
  };
  const controls = form([
    { name: 'period', label: 'Period', type: 'month', value: q.get('period') || previousPeriod() },
    { name: 'by', label: 'By', type: 'select', value: q.get('by') ?? byDefault, options: [['', 'whole funnel'], ['team', 'team'], ['rep', 'rep']] },
  ], load);
  main.append(controls.element, out);
  load(controls.values());
});
