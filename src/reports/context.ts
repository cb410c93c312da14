import { RelayError } from '../errors/catalogue.js';
import type { AccountId, ApiKeyId } from '../ids.js';
import { USAGE_TTL } from '../store/index.js';
import type { ReportDeps } from './deps.js';
import { calendar, type Calendar, type Period, type Step } from './periods.js';
import { sumGroups } from './read.js';
import { listSubjects, type Subject } from './subjects.js';
import type { Sums } from './sums.js';

export const DAY = 86_400_000;
export const iso = (ms: number): string => new Date(ms).toISOString();
export const invalid = (message: string): RelayError => new RelayError('admin_invalid', { message });
/** Percent change from `before` to `now`, two decimals; null when there was nothing before. */
export const pct = (now: number | bigint, before: number | bigint): number | null =>
  Number(before) === 0 ? null : Math.round(((Number(now) - Number(before)) / Number(before)) * 1e4) / 100;

type Lifetime = 'hourly' | 'daily' | 'weekly' | 'monthly';

/** What usage, rankings and trends share: the calendar, the bucket choice and the summing read. */
export interface ReportContext {
  readonly deps: ReportDeps;
  readonly cal: Calendar;
  sum(groups: readonly (readonly string[])[]): Promise<Sums[]>;
  subjects(kind: 'key' | 'account' | 'model'): Promise<Subject[]>;
  /** Refuses periods that start before the buckets they need were still kept. */
  check(periods: readonly Period[], needs: Lifetime): void;
  /** The lifetime the buckets of a step's periods need. */
  lifetimeOf(step: Step): Lifetime;
  /** The hashes holding a key's usage in one period of `step` (the coarsest that answer it). */
  keyBuckets(id: ApiKeyId, p: Period, step: Step): string[];
  accountBuckets(id: AccountId, p: Period, step: Step): string[];
  /** Per-model usage is kept per account and day. */
  modelBuckets(accountIds: readonly string[], model: string, p: Period): string[];
  validRange(from: number, to: number): void;
  /** Sums over [from, to) per subject: month buckets when it is whole months, else day buckets. */
  spanSums(subjects: readonly Subject[], kind: 'key' | 'account', from: number, to: number): Promise<Sums[]>;
}

export function reportContext(deps: ReportDeps): ReportContext {
  const k = deps.store.keys;
  const cal = calendar(deps.timeZone);
  const kept = (l: Lifetime) => USAGE_TTL[l] * 1000;
  /** A bucket is still there when its period began less than its lifetime ago. */
  const alive = (p: Period, l: Lifetime) => p.start > deps.clock.now() - kept(l);

  const check = (periods: readonly Period[], needs: Lifetime) => {
    const oldest = periods[0]?.start;
    if (oldest === undefined || oldest > deps.clock.now() - kept(needs)) return;
    const days = Math.round(USAGE_TTL[needs] / 86_400);
    throw invalid(
      `${needs} usage buckets are kept ${days} days; ${iso(oldest)} is older. Use a coarser step or a later from.`,
    );
  };
  // A report asks for the same period's days once per subject: work them out once.
  const dayCache = new Map<string, string[]>();
  const days = (p: Period) => {
    const id = `${p.start}:${p.end}`;
    let d = dayCache.get(id);
    if (!d) {
      d = cal.days(p.start, p.end);
      if (dayCache.size >= 10_000) dayCache.clear();
      dayCache.set(id, d);
    }
    return d;
  };
  const wholeMonths = (from: number, to: number) =>
    cal.startOf(from, 'month') === from && cal.startOf(to, 'month') === to;

  const ctx: ReportContext = {
    deps,
    cal,
    sum: (groups) => sumGroups({ redis: deps.store.redis, work: deps.work }, groups),
    subjects: (kind) => listSubjects(deps, kind),
    check,
    lifetimeOf: (step) => (step === 'hour' ? 'hourly' : step === 'month' ? 'monthly' : 'daily'),
    keyBuckets(id, p, step) {
      if (step === 'hour') return [k.keyUsageHourly(id, p.name)];
      if (step === 'month') return [k.keyUsageMonthly(id, p.name)];
      // Keys also have week buckets (for weekly budgets), kept a shorter time than the days.
      if (step === 'week' && alive(p, 'weekly')) return [k.keyUsageWeekly(id, p.name)];
      return days(p).map((d) => k.keyUsageDaily(id, d));
    },
    accountBuckets(id, p, step) {
      if (step === 'hour') return [k.accountUsageHourly(id, p.name)];
      if (step === 'month') return [k.accountUsageMonthly(id, p.name)];
      return days(p).map((d) => k.accountUsageDaily(id, d));
    },
    modelBuckets: (accountIds, model, p) =>
      days(p).flatMap((d) => accountIds.map((a) => k.accountUsageModelDaily(a as AccountId, model, d))),
    validRange(from, to) {
      if (!(from < to)) throw invalid('from must be before to.');
      if (to - from > 3 * 366 * DAY) throw invalid('A report spans at most three years.');
    },
    async spanSums(subjects, kind, from, to) {
      const step: Step = wholeMonths(from, to) ? 'month' : 'day';
      const periods = cal.periods(from, to, step);
      check(periods, step === 'month' ? 'monthly' : 'daily');
      return ctx.sum(
        subjects.map((s) =>
          periods.flatMap((p) =>
            kind === 'key' ? ctx.keyBuckets(s.id as ApiKeyId, p, step) : ctx.accountBuckets(s.id as AccountId, p, step),
          ),
        ),
      );
    },
  };
  return ctx;
}
