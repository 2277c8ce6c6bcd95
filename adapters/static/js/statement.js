// A rep's commission statement. Every figure opens its lines; every line opens the events it came
// from (each in full, through the drill-down route) and the plan that priced it.
import { api, form, h, keepParams, link, money, page, params, previousPeriod, show, table, when } from './app.js';

const ID_PAGES = {
  deal_id: (id) => ['audit', { subject: 'deal', id }],
  order_id: (id) => ['audit', { subject: 'order', id }],
  customer_id: (id) => ['customer', { id }],
  rep_id: (id) => ['audit', { subject: 'rep', id }],
  owner_rep_id: (id) => ['audit', { subject: 'rep', id }],
};

// Sums of two-decimal strings, in cents, so the figures add up exactly as the ledger does.
function sum(amounts) {
  const cents = amounts.reduce((total, a) => total + BigInt(String(a).replace('.', '')), 0n);
  const sign = cents < 0n ? '-' : '';
  const digits = (cents < 0n ? -cents : cents).toString().padStart(3, '0');
  return `${sign}${digits.slice(0, -2)}.${digits.slice(-2)}`;
}

function value(key, item) {
  if (item !== null && typeof item === 'object') return h('code', {}, JSON.stringify(item));
  const target = ID_PAGES[key];
  return target && item ? link(...target(item), String(item)) : String(item ?? '–');
}

function keyValues(object) {
  return h('dl', { class: 'kv' }, Object.entries(object).map(([key, item]) => [h('dt', {}, key), h('dd', {}, value(key, item))]));
}

function planPanel(key, plan) {
  const bands = plan.accelerators?.bands || [];
  return [
    h('h3', {}, `Plan ${key}`),
    keyValues({
      name: plan.name,
      version: plan.version,
      effective_from: plan.effective_from,
      'rate, first order': plan.rates?.first_order,
      'rate, repeat order': plan.rates?.repeat_order,
      'accelerator mode': plan.accelerators?.mode,
      clawback_days: plan.clawback_days,
    }),
    bands.length ? table([
      { title: 'attainment from', num: true, value: (b) => b.from },
      { title: 'multiplier', num: true, value: (b) => b.multiplier },
    ], bands, { caption: 'Accelerator bands' }) : null,
    (plan.bonuses || []).length ? table([
      { title: 'bonus', value: (b) => b.id },
      { title: 'when', value: (b) => h('code', {}, b.when) },
      { title: 'rate', num: true, value: (b) => b.rate },
    ], plan.bonuses, { caption: 'Bonuses' }) : null,
    plan.scorecard ? keyValues({ 'scorecard weights': plan.scorecard.weights, 'scorecard cap': plan.scorecard.cap }) : null,
    h('details', {}, h('summary', {}, 'Plan document'), h('pre', {}, JSON.stringify(plan, null, 2))),
  ];
}

function statementView(doc, name) {
  const lines = h('div', { id: 'lines' });
  const sources = h('div', { id: 'sources' });
  const detail = h('div', { id: 'event' });
  const plan = h('div', { id: 'plan' });
  const base = `/payroll/${encodeURIComponent(doc.period)}/statements/${encodeURIComponent(doc.rep_id)}`;
  const clear = (...panels) => panels.forEach((p) => { p.replaceChildren(); p.className = ''; });

  const openEvent = (eventId, row) => {
    sources.querySelectorAll('tr').forEach((tr) => tr.classList.toggle('selected', tr === row));
    detail.className = 'panel';
    show(detail, async () => {
      const found = await api(`${base}/sources/${encodeURIComponent(eventId)}`);
      return [
        h('h3', {}, `${found.type} `, h('code', {}, found.event_id)),
        keyValues({ occurred_at: when(found.occurred_at), recorded_at: when(found.recorded_at) }),
        h('h3', {}, 'What was recorded'),
        keyValues(found.data),
        h('p', { class: 'hint' }, 'Figures of this statement it feeds: ',
          found.figures.map((f) => `${f.kind} ${money(f.amount)}${f.order_id ? ` (${f.order_id})` : ''}`).join('; ')),
      ];
    });
  };

  const openSources = (line, row) => {
    lines.querySelectorAll('tr').forEach((tr) => tr.classList.toggle('selected', tr === row));
    clear(detail, plan);
    sources.className = 'panel';
    sources.replaceChildren(
      h('h3', {}, `Sources of ${line.kind} ${money(line.amount)}${line.order_id ? ` on ${line.order_id}` : ''}`),
      table([
        { title: 'event', value: (id) => h('button', { type: 'button', class: 'link source-event', 'data-event': id, onclick: (e) => openEvent(id, e.target.closest('tr')) }, doc.events[id]?.type || id) },
        { title: 'occurred', value: (id) => when(doc.events[id]?.occurred_at) },
        { title: 'recorded', value: (id) => when(doc.events[id]?.recorded_at) },
        { title: 'id', value: (id) => h('code', {}, id) },
      ], line.sources),
    );
  };

  const openPlan = (key) => {
    clear(sources, detail);
    plan.className = 'panel';
    plan.replaceChildren(...planPanel(key, doc.plans[key]).filter(Boolean));
  };

  const openLines = (kind, button) => {
    figures.querySelectorAll('button.figure').forEach((b) => b.classList.toggle('open', b === button));
    clear(sources, detail, plan);
    const shown = kind === 'total' ? doc.lines : doc.lines.filter((l) => l.kind === kind);
    lines.className = 'panel';
    lines.replaceChildren(
      h('h3', {}, kind === 'total' ? 'Every line' : `${kind} lines`),
      table([
        { title: 'kind', value: (l) => l.kind + (l.bonus_id ? ` (${l.bonus_id})` : '') },
        { title: 'amount', num: true, value: (l) => h('button', { type: 'button', class: 'link line-amount', title: 'its source events', onclick: (e) => openSources(l, e.target.closest('tr')) }, money(l.amount)) },
        { title: 'order', value: (l) => (l.order_id ? link('audit', { subject: 'order', id: l.order_id }, l.order_id) : '') },
        { title: 'corrects', value: (l) => l.corrects || '' },
        { title: 'plan', value: (l) => h('button', { type: 'button', class: 'link line-plan', onclick: () => openPlan(l.plan) }, l.plan) },
        { title: 'how it was computed', value: (l) => l.explanation },
      ], shown),
    );
  };

  const kinds = [...new Set(doc.lines.map((l) => l.kind))];
  const figure = (kind, label, amount, extra) => h('button', { type: 'button', class: 'card figure', 'data-kind': kind, onclick: (e) => openLines(kind, e.currentTarget) },
    h('span', { class: 'label' }, label), h('span', { class: 'value', 'data-amount': amount }, money(amount)), h('span', { class: 'extra' }, extra));
  const figures = h('div', { class: 'cards', id: 'figures' },
    figure('total', 'total', doc.total, `${doc.lines.length} lines`),
    kinds.map((kind) => {
      const mine = doc.lines.filter((l) => l.kind === kind);
      return figure(kind, kind, sum(mine.map((l) => l.amount)), `${mine.length} line${mine.length === 1 ? '' : 's'}`);
    }));
  return [
    h('h2', { id: 'statement-title' }, `${name} (${doc.rep_id}) · ${doc.period} · ${doc.closed ? 'closed' : 'open'}`),
    h('p', { class: 'hint' }, 'Click a figure for its lines, an amount for the events it came from, a plan for its terms.'),
    figures, lines, sources, detail, plan,
  ];
}

async function repName(repId) {
  try {
    const trail = await api(`/audit/rep/${encodeURIComponent(repId)}`);
    return trail.events.find((e) => e.type === 'Rep.Onboarded')?.changes.name || repId;
  } catch {
    return repId; // the name is a courtesy: a token that reads pay but not the rep's trail still sees its figures
  }
}

function overview(doc) {
  const reps = Object.entries(doc.totals);
  return [
    h('p', { class: 'hint' }, `Pick a rep: ${reps.length} with lines in ${doc.period} (${doc.scope}).`),
    table([
      { title: 'rep', value: ([rep]) => link('statement', { period: doc.period, rep }, rep) },
      { title: 'total', num: true, value: ([, total]) => money(total) },
    ], reps, { id: 'totals' }),
  ];
}

page('statement', 'Commission statement', async (main, who) => {
  const q = params();
  const out = h('div', { id: 'result' });
  const load = (values) => {
    keepParams(values);
    const period = encodeURIComponent(values.period);
    show(out, async () => {
      if (!values.rep) return overview(await api(`/payroll/${period}/lines`));
      const [doc, name] = await Promise.all([
        api(`/payroll/${period}/statements/${encodeURIComponent(values.rep)}`),
        repName(values.rep),
      ]);
      return statementView(doc, name);
    });
  };
  const controls = form([
    { name: 'period', label: 'Period', type: 'month', value: q.get('period') || previousPeriod() },
    { name: 'rep', label: 'Rep id (empty: every rep)', value: q.get('rep') ?? (who.rep_id || ''), placeholder: 'r-001' },
  ], load);
  main.append(controls.element, out);
  load(controls.values());
});
