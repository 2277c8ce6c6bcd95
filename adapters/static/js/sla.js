import { api, chart, escapeHtml, form, h, keepParams, link, number, page, params, percent, show, table, when } from './app.js';

const late = (row) => row.mean_response_hours !== null && Number(row.mean_response_hours) > row.sla_hours;

function responseChart(container, departments) {
  chart(container, {
    tooltip: {
      trigger: 'axis',
      formatter: (items) => escapeHtml(items[0].name) + items.map((i) => `<br>${escapeHtml(i.seriesName)}: ${i.value ?? '–'} h`).join(''),
    },
    legend: { data: ['mean response', 'SLA'] },
    xAxis: { type: 'category', data: departments.map((d) => d.department) },
    yAxis: { type: 'value', name: 'hours' },
    series: [
      {
        name: 'mean response',
        type: 'bar',
        data: departments.map((d) => ({
          value: d.mean_response_hours === null ? null : Number(d.mean_response_hours),
          itemStyle: { color: late(d) ? '#c62828' : '#2f6fdb' },
        })),
        label: { show: true, position: 'top', formatter: (p) => (p.value == null ? '' : `${p.value} h`) },
      },
      { name: 'SLA', type: 'bar', data: departments.map((d) => d.sla_hours), itemStyle: { color: '#bcccdc' }, label: { show: true, position: 'top', formatter: '{c} h' } },
    ],
  });
}

function departments(report) {
  const bad = (test) => (row) => (test(row) ? 'flag' : '');
  return table([
    { title: 'department', value: (d) => d.department },
    { title: 'SLA h', num: true, value: (d) => d.sla_hours },
    { title: 'requests', num: true, value: (d) => d.requests },
    { title: 'decided', num: true, value: (d) => d.decided },
    { title: 'approved', num: true, value: (d) => d.approved },
    { title: 'rejected', num: true, value: (d) => d.rejected },
    { title: 'mean response h', num: true, cell: bad(late), value: (d) => d.mean_response_hours ?? '–' },
    { title: 'late decisions', num: true, cell: bad((d) => d.late_decisions > 0), value: (d) => d.late_decisions },
    { title: 'open', num: true, value: (d) => d.open },
    { title: 'overdue now', num: true, cell: bad((d) => d.overdue > 0), value: (d) => d.overdue },
    { title: 'breaches', num: true, cell: bad((d) => d.breaches > 0), value: (d) => d.breaches },
    { title: 'repeat rejections', num: true, value: (d) => (d.repeat_rejection_rate === null ? '–' : percent(d.repeat_rejection_rate)) },
  ], report.departments, { id: 'departments', rowClass: (d) => (late(d) || d.overdue > 0 ? 'flagged' : '') });
}

const dealLink = (doc) => link('audit', { subject: 'deal', id: doc.deal_id }, doc.deal_id);
const customerLink = (doc) => link('customer', { id: doc.customer_id }, doc.customer_id);

function render(report) {
  const container = h('div', { class: 'chart', id: 'sla-chart' });
  requestAnimationFrame(() => responseChart(container, report.departments));
  return [
    h('p', { class: 'hint' }, `As of ${when(report.as_of)}. Red: slower than the SLA, late or overdue.`),
    container,
    departments(report),
    h('h2', {}, `Requests overdue now (${report.overdue.length})`),
    table([
      { title: 'request', value: (d) => link('audit', { subject: 'requirement', id: d.request_id }, d.request_id) },
      { title: 'deal', value: dealLink },
      { title: 'customer', value: customerLink },
      { title: 'department', value: (d) => d.department },
      { title: 'deadline', value: (d) => when(d.deadline) },
      { title: 'overdue h', num: true, value: (d) => number(d.overdue_hours) },
      { title: 'breach', value: (d) => (d.breached ? 'recorded' : 'not yet') },
    ], report.overdue.slice(0, 50), { id: 'overdue' }),
    h('h2', {}, `Contract clauses flagged (${report.contract_risks.length})`),
    table([
      { title: 'contract', value: (d) => link('audit', { subject: 'contract', id: d.contract_id }, d.contract_id) },
      { title: 'deal', value: dealLink },
      { title: 'customer', value: customerLink },
      { title: 'rule', value: (d) => d.rule },
      { title: 'detail', value: (d) => d.detail },
      { title: 'submitted', value: (d) => when(d.submitted_at) },
    ], report.contract_risks, { id: 'risks' }),
  ];
}

page('sla', 'SLA board', async (main) => {
  const out = h('div', { id: 'result' });
  const load = (values) => {
    keepParams(values);
    const now = values.now ? new Date(values.now).toISOString() : undefined;
    show(out, async () => render(await api('/sla', { query: { now } })));
  };
  const controls = form([{ name: 'now', label: 'Overdue as of (default: now)', type: 'datetime-local', value: params().get('now') || '' }], load);
  main.append(controls.element, out);
  load(controls.values());
});
