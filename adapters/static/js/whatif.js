// What a plan would cost: pay over the periods at every point of a sweep of one plan term (a second
// term draws one curve per value), against what the live ledger pays.
import { api, chart, escapeHtml, form, h, keepParams, money, page, params, previousPeriod, show, table } from './app.js';

function lastQuarter() {
  const end = previousPeriod();
  const [year, month] = end.split('-').map(Number);
  const start = new Date(year, month - 3, 1);
  return `${start.getFullYear()}-${String(start.getMonth() + 1).padStart(2, '0')}..${end}`;
}

function costCurve(container, doc) {
  const [first, second] = doc.axes;
  const live = Number(doc.live.payout);
  const x = first ? first.values : ['plan'];
  const curves = second ? second.values.map((v) => [`${second.field} = ${v}`, (p) => p.values[second.field] === v]) : [['payout', () => true]];
  chart(container, {
    tooltip: {
      trigger: 'axis',
      formatter: (items) => `${escapeHtml(first ? first.field : '')} ${escapeHtml(items[0].axisValue)}` +
        items.map((i) => `<br>${escapeHtml(i.seriesName)}: ${money(Number(i.value).toFixed(2))}`).join(''),
    },
    legend: { top: 0 },
    grid: { left: 90, right: 40, top: 40, bottom: 50 },
    xAxis: { type: 'category', name: first ? first.field : '', nameLocation: 'middle', nameGap: 30, data: x },
    yAxis: { type: 'value', name: 'payout', scale: true },
    series: curves.map(([name, match]) => ({
      name,
      type: 'line',
      symbolSize: 8,
      data: doc.points.filter(match).map((p) => Number(p.payout)),
      markLine: { symbol: 'none', lineStyle: { type: 'dashed', color: '#616e7c' }, label: { position: 'insideEndTop', formatter: `live ${money(doc.live.payout)}` }, data: [{ yAxis: live }] },
    })),
  });
}

function repsOf(point) {
  return table([
    { title: 'rep', value: (r) => r.rep_id },
    { title: 'live', num: true, value: (r) => money(r.live) },
    { title: 'candidate', num: true, value: (r) => money(r.candidate) },
    { title: 'difference', num: true, value: (r) => money(r.difference) },
    { title: 'change', num: true, cell: (r) => (r.moved ? 'flag' : ''), value: (r) => (r.change_pct === null ? '–' : `${r.change_pct}%`) },
  ], point.reps, { caption: `Per rep at ${Object.entries(point.values).map(([k, v]) => `${k} = ${v}`).join(', ') || 'the plan'}` });
}

function render(doc) {
  const container = h('div', { class: 'chart', id: 'cost-curve' });
  requestAnimationFrame(() => costCurve(container, doc));
  const reps = h('div', { id: 'point-reps' });
  const fields = doc.axes.map((a) => a.field);
  const points = table([
    ...fields.map((f) => ({ title: f, value: (p) => p.values[f] })),
    { title: 'payout', num: true, value: (p) => h('button', { type: 'button', class: 'link', onclick: () => reps.replaceChildren(repsOf(p)) }, money(p.payout)) },
    { title: 'vs live', num: true, value: (p) => money(p.difference) },
    { title: 'payout ÷ revenue', num: true, value: (p) => p.payout_to_revenue ?? '–' },
    { title: 'payout ÷ margin', num: true, value: (p) => p.payout_to_margin ?? '–' },
    { title: `reps moving > ${doc.threshold_pct}%`, num: true, value: (p) => p.reps_moved },
  ], doc.points, { id: 'points' });
  return [
    h('p', { class: 'hint' }, `${doc.base} over ${doc.periods[0]}..${doc.periods.at(-1)}; the live ledger pays ${money(doc.live.payout)} (payout ÷ revenue ${doc.live.payout_to_revenue ?? '–'}). Click a payout for its reps.`),
    container, points, reps,
  ];
}

page('whatif', 'What-if pay', async (main) => {
  const q = params();
  const out = h('div', { id: 'result' });
  const load = (values) => {
    keepParams(values);
    const sweep = [values.sweep, values.sweep2].filter(Boolean);
    show(out, async () => render(await api('/whatif', {
      method: 'POST',
      body: { plan: values.plan || 'live', periods: values.periods, sweep, threshold: values.threshold || '5' },
    })));
  };
  const controls = form([
    { name: 'plan', label: 'Plan (live or NAME@VERSION)', value: q.get('plan') || 'live', size: 14 },
    { name: 'periods', label: 'Periods FROM..TO', value: q.get('periods') || lastQuarter(), size: 18 },
    { name: 'sweep', label: 'Sweep FIELD=FROM..TO:STEP', value: q.get('sweep') ?? 'bonuses[0].rate=0.4%..1.6%:0.2%', size: 34 },
    { name: 'sweep2', label: 'Second sweep (one curve per value)', value: q.get('sweep2') || '', size: 30, placeholder: 'rates.first_order=3%..5%:1%' },
    { name: 'threshold', label: 'Moves past %', type: 'number', value: q.get('threshold') || '5', step: 'any', size: 5 },
  ], load, 'Sweep');
  main.append(controls.element, out);
  load(controls.values());
});
