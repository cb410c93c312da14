import { picoToUsd } from '../usage/pricing.js';
import { invalid, iso, pct, type ReportContext } from './context.js';
import type { Subject } from './subjects.js';
import { emptySums, reportFigures, type ReportFigures, type Sums } from './sums.js';

export const RANK_BY = ['key', 'account', 'model'] as const;
export type RankBy = (typeof RANK_BY)[number];
export const METRICS = ['cost', 'tokens', 'requests'] as const;
export type Metric = (typeof METRICS)[number];

export interface RankQuery {
  by: RankBy;
  metric: Metric;
  /** Epoch ms, widened to whole days in the stats time zone. */
  from: number;
  to: number;
  limit: number;
}

export interface RankRow extends Subject {
  /** The metric over [from, to): USD for cost, all tokens (input, cache, output), or requests. */
  value: number;
  /** The same over the period of equal length just before. */
  previous: number;
  /** Percent change against `previous`; null when it was 0. */
  change: number | null;
  figures: ReportFigures;
  previousFigures: ReportFigures;
}

export interface Rankings {
  by: RankBy;
  metric: Metric;
  timeZone: string;
  from: string;
  to: string;
  /** The previous period is [previousFrom, from). */
  previousFrom: string;
  rows: RankRow[];
}

/** The exact measure (picodollars for cost), for ordering and change. */
const exact = (s: Sums, metric: Metric): bigint => {
  if (metric === 'cost') return BigInt(s.costPico);
  if (metric === 'requests') return BigInt(s.requests);
  return BigInt(s.inputTokens) + BigInt(s.cacheReadTokens) + BigInt(s.cacheCreateTokens) + BigInt(s.outputTokens);
};
/** Orders bigger first. */
const desc = (a: bigint, b: bigint) => (a === b ? 0 : b > a ? 1 : -1);
const shown = (v: bigint, metric: Metric) => (metric === 'cost' ? picoToUsd(v) : Number(v));

/**
 * The top keys, accounts or models over [from, to) (whole days; month buckets when whole months),
 * with the same measure over the period of equal length just before it. Deleted keys and accounts
 * rank too (marked `deleted`): what they spent was spent.
 */
export async function rankings(ctx: ReportContext, q: RankQuery): Promise<Rankings> {
  const { cal } = ctx;
  if (!RANK_BY.includes(q.by)) throw invalid(`by must be one of ${RANK_BY.join(', ')}.`);
  if (!METRICS.includes(q.metric)) throw invalid(`metric must be one of ${METRICS.join(', ')}.`);
  if (!Number.isInteger(q.limit) || q.limit < 1) throw invalid('limit must be a positive integer.');
  const from = cal.startOf(q.from, 'day');
  const to = cal.startOf(q.to, 'day') === q.to ? q.to : cal.nextStart(q.to, 'day');
  ctx.validRange(from, to);
  // As many whole months before when [from, to) is whole months, else as many whole days.
  const months = cal.startOf(from, 'month') === from && cal.startOf(to, 'month') === to;
  const count = months ? cal.periods(from, to, 'month').length : cal.days(from, to).length;
  let prevFrom = from;
  for (let i = 0; i < count; i++) prevFrom = cal.startOf(prevFrom - 1, months ? 'month' : 'day');

  let subjects: Subject[];
  let now: Sums[];
  let before: Sums[];
  if (q.by === 'model') {
    const accounts = (await ctx.subjects('account')).map((a) => a.id);
    subjects = await ctx.subjects('model');
    const nowDays = cal.periods(from, to, 'day');
    const beforeDays = cal.periods(prevFrom, from, 'day');
    ctx.check(beforeDays, 'daily');
    const read = (days: typeof nowDays) =>
      ctx.sum(subjects.map((m) => days.flatMap((p) => ctx.modelBuckets(accounts, m.id, p))));
    [now, before] = await Promise.all([read(nowDays), read(beforeDays)]);
  } else {
    subjects = await ctx.subjects(q.by);
    [now, before] = await Promise.all([
      ctx.spanSums(subjects, q.by, from, to),
      ctx.spanSums(subjects, q.by, prevFrom, from),
    ]);
  }
  const rows = subjects
    .map((s, i) => {
      const a = now[i] ?? emptySums();
      const b = before[i] ?? emptySums();
      return { s, a, b, va: exact(a, q.metric), vb: exact(b, q.metric) };
    })
    .filter((r) => r.va > 0n || r.vb > 0n)
    .sort((x, y) => desc(x.va, y.va) || desc(x.vb, y.vb) || (x.s.id < y.s.id ? -1 : 1))
    .slice(0, q.limit)
    .map(({ s, a, b, va, vb }): RankRow => ({
      ...s,
      value: shown(va, q.metric),
      previous: shown(vb, q.metric),
      change: pct(va, vb),
      figures: reportFigures(a),
      previousFigures: reportFigures(b),
    }));
  return {
    by: q.by,
    metric: q.metric,
    timeZone: cal.timeZone,
    from: iso(from),
    to: iso(to),
    previousFrom: iso(prevFrom),
    rows,
  };
}
