import type { AlertTransition } from '../alerts/service.js';
import type { Period, RankBy, RankRow, ReportFigures, Reports } from '../reports/index.js';
import { periodBefore, STEP_OF, type ReportKind } from '../reports/schedule/index.js';

/**
 * The summary of one complete period, as data: the deployment's totals and their change against
 * the period before, the top keys, accounts and models by cost, and the incidents (alerts that
 * started firing in the period). Money is integer picodollars (a decimal string) with USD beside.
 */
export interface ReportSummary {
  kind: ReportKind;
  timeZone: string;
  period: PeriodView;
  previous: PeriodView;
  totals: Totals;
  previousTotals: Totals;
  /** Percent change of each total against the previous period; null when that was 0. */
  change: { requests: number | null; errors: number | null; totalTokens: number | null; cost: number | null };
  top: Record<'keys' | 'accounts' | 'models', TopRow[]>;
  incidents: Incident[];
  /** The alert history kept (the last 1,000 transitions) may not reach back to the period's start. */
  incidentsComplete: boolean;
}

export interface PeriodView {
  name: string;
  start: string;
  end: string;
}

export interface Totals {
  requests: number;
  errors: number;
  /** Errors ÷ requests; null without requests. */
  errorRate: number | null;
  inputTokens: number;
  outputTokens: number;
  cacheCreateTokens: number;
  cacheReadTokens: number;
  totalTokens: number;
  costPico: string;
  costUsd: number;
}

export interface TopRow extends Totals {
  rank: number;
  id: string;
  name: string;
  platform: string;
  deleted: boolean;
  previousCostUsd: number;
  /** Percent change of cost against the previous period; null when it was 0. */
  change: number | null;
}

export interface Incident {
  rule: string;
  ruleName: string;
  subject: string;
  firingAt: string;
  resolvedAt: string | null;
}

export interface SummaryDeps {
  reports: Pick<Reports, 'calendar' | 'usage' | 'rankings'>;
  /** The alert history, newest first. */
  history(limit: number): Promise<AlertTransition[]>;
  historyKept: number;
  ruleNames(): Promise<ReadonlyMap<string, string>>;
}

const iso = (ms: number) => new Date(ms).toISOString();
const view = (p: Period): PeriodView => ({ name: p.name, start: iso(p.start), end: iso(p.end) });
const pct = (now: number, before: number) => (before === 0 ? null : Math.round(((now - before) / before) * 1e4) / 100);
/** Percent change of picodollar amounts, exact until the rounding. */
const pctPico = (now: string, before: string) =>
  BigInt(before) === 0n ? null : Number(((BigInt(now) - BigInt(before)) * 1_000_000n) / BigInt(before)) / 1e4;

function totalsOf(f: ReportFigures): Totals {
  return {
    requests: f.requests,
    errors: f.errors,
    errorRate: f.requests > 0 ? Math.round((f.errors / f.requests) * 1e6) / 1e6 : null,
    inputTokens: f.inputTokens,
    outputTokens: f.outputTokens,
    cacheCreateTokens: f.cacheCreateTokens,
    cacheReadTokens: f.cacheReadTokens,
    totalTokens: f.totalTokens,
    costPico: f.costPico,
    costUsd: f.cost,
  };
}

const topRow = (r: RankRow, i: number): TopRow => ({
  rank: i + 1,
  id: r.id,
  name: r.name,
  platform: r.platform,
  deleted: r.deleted,
  ...totalsOf(r.figures),
  previousCostUsd: r.previous,
  change: r.change,
});

/** Alerts that started firing in [start, end), each with when it resolved (if it has). */
export function incidentsOf(
  history: readonly AlertTransition[],
  names: ReadonlyMap<string, string>,
  start: number,
  end: number,
): Incident[] {
  const oldestFirst = [...history].sort((a, b) => a.at - b.at);
  return oldestFirst
    .filter((t) => t.to === 'firing' && t.at >= start && t.at < end)
    .map((t) => {
      const resolved = oldestFirst.find(
        (r) => r.fingerprint === t.fingerprint && r.at >= t.at && r.from === 'firing' && r.to !== 'firing',
      );
      return {
        rule: t.rule,
        ruleName: names.get(t.rule) ?? t.rule,
        subject: t.subject ?? t.fingerprint,
        firingAt: iso(t.at),
        resolvedAt: resolved ? iso(resolved.at) : null,
      };
    });
}

/** The summary of `period` (a complete day, week or month), with up to `rows` rows per top list. */
export async function buildSummary(
  deps: SummaryDeps,
  kind: ReportKind,
  period: Period,
  rows: number,
): Promise<ReportSummary> {
  const cal = deps.reports.calendar;
  const step = STEP_OF[kind];
  const previous = periodBefore(cal, period, step);
  const rank = (by: RankBy) =>
    deps.reports.rankings({ by, metric: 'cost', from: period.start, to: period.end, limit: rows });
  const [usage, keys, accounts, models, history, names] = await Promise.all([
    deps.reports.usage({ scope: 'deployment', from: previous.start, to: period.end, step }),
    rank('key'),
    rank('account'),
    rank('model'),
    deps.history(deps.historyKept),
    deps.ruleNames(),
  ]);
  const [before, now] = usage.periods;
  if (!before || !now || now.period !== period.name) throw new Error(`no usage for ${kind} ${period.name}`);
  const oldest = history.at(-1);
  return {
    kind,
    timeZone: cal.timeZone,
    period: view(period),
    previous: view(previous),
    totals: totalsOf(now),
    previousTotals: totalsOf(before),
    change: {
      requests: pct(now.requests, before.requests),
      errors: pct(now.errors, before.errors),
      totalTokens: pct(now.totalTokens, before.totalTokens),
      cost: pctPico(now.costPico, before.costPico),
    },
    top: { keys: keys.rows.map(topRow), accounts: accounts.rows.map(topRow), models: models.rows.map(topRow) },
    incidents: incidentsOf(history, names, period.start, period.end),
    incidentsComplete: history.length < deps.historyKept || (oldest !== undefined && oldest.at <= period.start),
  };
}
