import type { Burn, Rankings, ReportFigures, Trends, UsageSeries } from '../reports/index.js';
import { rankQueryOf, trendsQueryOf, usageQueryOf, type Params } from '../reports/params.js';
import { str, type OptionSpec, type Values } from './args.js';
import type { Command, Group } from './command.js';
import { count, usd, when, type Output } from './output.js';
import { scheduleCommands } from './report-schedules.js';

/** Flags are the admin API's parameters, checked by the same code (src/reports/params.ts). */
const paramsOf =
  (values: Values): Params =>
  (name) =>
    str(values, name);
const opts = (...names: string[]): OptionSpec => Object.fromEntries(names.map((n) => [n, { type: 'string' }]));

const rate = (r: number | null) => (r === null ? '-' : `${(r * 100).toFixed(1)}%`);
const change = (c: number | null) => (c === null ? '-' : `${c > 0 ? '+' : ''}${c}%`);
const HEADERS = ['REQUESTS', 'ERRORS', 'INPUT', 'OUTPUT', 'CACHE WRITE', 'CACHE READ', 'HIT RATE', 'COST'];
const cells = (f: ReportFigures) => [
  count(f.requests),
  count(f.errors),
  count(f.inputTokens),
  count(f.outputTokens),
  count(f.cacheCreateTokens),
  count(f.cacheReadTokens),
  rate(f.cacheHitRate),
  usd(f.cost),
];

function printUsage(out: Output, r: UsageSeries): void {
  const what = r.scope === 'deployment' ? 'the deployment' : `${r.scope} ${r.id}${r.name ? ` (${r.name})` : ''}`;
  out.line(`Usage of ${what} per ${r.step}, ${when(r.from)} to ${when(r.to)} (${r.timeZone}):`);
  out.table(['PERIOD', ...HEADERS], [...r.periods.map((p) => [p.period, ...cells(p)]), ['Total', ...cells(r.total)]]);
}

function printRankings(out: Output, r: Rankings): void {
  out.line(`Top ${r.by}s by ${r.metric}, ${when(r.from)} to ${when(r.to)}, against ${when(r.previousFrom)} on:`);
  if (r.rows.length === 0) return out.line('No usage in either period.');
  const value = (v: number) => (r.metric === 'cost' ? usd(v) : count(v));
  out.table(
    ['#', 'ID', 'NAME', ...(r.by === 'account' ? ['PLATFORM'] : []), r.metric.toUpperCase(), 'PREVIOUS', 'CHANGE'],
    r.rows.map((x, i) => [
      String(i + 1),
      x.id,
      `${x.name}${x.deleted ? ' (deleted)' : ''}`,
      ...(r.by === 'account' ? [x.platform] : []),
      value(x.value),
      value(x.previous),
      change(x.change),
    ]),
  );
}

const burnCell = (b: Burn | undefined) =>
  !b ? '-' : b.reached ? 'reached' : b.projectedAt ? `at ${when(b.projectedAt)}` : `not before reset`;

function printTrends(out: Output, t: Trends): void {
  const d = t.deployment;
  out.line(`Trends of ${t.month} as of ${when(t.at)} (${t.timeZone}):`);
  out.fields([
    ['month to date', usd(d.monthToDate.cost)],
    ['same days last month', `${usd(d.previousSameSpan.cost)} (${change(d.change)})`],
    ['daily run rate', usd(d.dailyRunRate.cost)],
    ['month-end forecast', `${usd(d.forecast.cost)} (${t.daysLeft} days left)`],
  ]);
  out.line();
  if (t.keys.length === 0) return out.line('No key has spent anything this month or the last week.');
  const of = (k: Trends['keys'][number], limit: Burn['limit']) => k.burns.find((b) => b.limit === limit);
  out.table(
    ['KEY', 'NAME', 'MONTH TO DATE', 'PER DAY', 'FORECAST', 'DAILY LIMIT', 'WEEKLY LIMIT', 'TOTAL LIMIT'],
    t.keys.map((k) => [
      k.id,
      `${k.name}${k.deleted ? ' (deleted)' : ''}`,
      usd(k.monthToDate.cost),
      usd(k.dailyRunRate.cost),
      usd(k.forecast.cost),
      burnCell(of(k, 'daily')),
      burnCell(of(k, 'weekly')),
      burnCell(of(k, 'total')),
    ]),
  );
  out.line(`\nMethod: ${t.method.forecast}.`);
}

const commands: Command[] = [
  {
    name: 'usage',
    synopsis: 'usage [--scope deployment|platform|key|account|group|model] [--id ID] [--from F] [--to T] [--step S]',
    summary: 'Usage over time: requests, errors, tokens, cache hit rate and cost per hour, day, week or month.',
    options: opts('scope', 'id', 'from', 'to', 'step'),
    async run(ctx, { values, out }) {
      const reports = await ctx.reports();
      const r = await reports.usage(usageQueryOf(paramsOf(values), reports.calendar, Date.now()));
      if (out.json) return out.data(r);
      printUsage(out, r);
    },
  },
  {
    name: 'top',
    synopsis: 'top [--by key|account|model] [--metric cost|tokens|requests] [--from F] [--to T] [--limit N]',
    summary: 'The top keys, accounts or models, with the change against the period of equal length before.',
    options: opts('by', 'metric', 'from', 'to', 'limit'),
    async run(ctx, { values, out }) {
      const reports = await ctx.reports();
      const r = await reports.rankings(rankQueryOf(paramsOf(values), reports.calendar, Date.now()));
      if (out.json) return out.data(r);
      printRankings(out, r);
    },
  },
  {
    name: 'trends',
    synopsis: 'trends [--keys N]',
    summary: "This month so far against last month's same days, month-end forecasts, and keys' budget burn.",
    options: opts('keys'),
    async run(ctx, { values, out }) {
      const r = await (await ctx.reports()).trends(trendsQueryOf(paramsOf(values)));
      if (out.json) return out.data(r);
      printTrends(out, r);
    },
  },
];

export const reportsGroup: Group = {
  name: 'reports',
  summary: 'Usage reports, rankings and trends (docs/REPORTS.md).',
  commands: [...commands, ...scheduleCommands],
  notes: [
    'F and T: a day (2026-11-01) or month (2026-11) in STATS_TIMEZONE, or an ISO 8601 instant; T is exclusive.',
    'Without them: the last 30 days, today included.',
  ],
};
