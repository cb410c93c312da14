import { reportContext } from './context.js';
import type { ReportDeps } from './deps.js';
import type { Calendar } from './periods.js';
import { rankings, type RankQuery, type Rankings } from './rankings.js';
import { trends, type Trends, type TrendsQuery } from './trends.js';
import { usageSeries, type UsageQuery, type UsageSeries } from './usage.js';

export type { ReportDeps } from './deps.js';
export { calendar, STEPS, type Calendar, type Period, type Step } from './periods.js';
export type { ReportFigures, Sums } from './sums.js';
export type { Subject } from './subjects.js';
export { SCOPES, type Scope, type UsageQuery, type UsageSeries } from './usage.js';
export { METRICS, RANK_BY, type Metric, type RankBy, type RankQuery, type RankRow, type Rankings } from './rankings.js';
export { FORECAST_DAYS, type Burn, type KeyTrend, type Money, type Trends, type TrendsQuery } from './trends.js';

/**
 * Reports over the usage buckets the recorder writes (docs/REPORTS.md). Every answer is plain
 * JSON-able data naming keys and accounts beside their ids, never a secret. What a report reads
 * depends on subjects × periods, never on the number of requests booked.
 */
export interface Reports {
  /** The stats time zone's periods, and parsing of `from`/`to` values. */
  readonly calendar: Calendar;
  /** Usage over time of the deployment, a platform, key, account, account group or model. */
  usage(q: UsageQuery): Promise<UsageSeries>;
  /** Top keys, accounts or models, with the change against the previous period of equal length. */
  rankings(q: RankQuery): Promise<Rankings>;
  /** Month to date, month-end forecasts and budget burn, as of the clock's now. */
  trends(q?: TrendsQuery): Promise<Trends>;
}

export function createReports(deps: ReportDeps): Reports {
  const ctx = reportContext(deps);
  return {
    calendar: ctx.cal,
    usage: (q) => usageSeries(ctx, q),
    rankings: (q) => rankings(ctx, q),
    trends: (q) => trends(ctx, q),
  };
}
