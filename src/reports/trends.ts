import type { ApiKeyId } from '../ids.js';
import type { ApiKeyRecord } from '../keys/service.js';
import { picoToUsd } from '../usage/pricing.js';
import { weeklyCostField } from '../usage/recorder.js';
import { modelFamily } from '../util/models.js';
import { DAY, iso, pct, type ReportContext } from './context.js';
import { burn, type Burn } from './burn.js';
import { addSums, emptySums, reportFigures, type ReportFigures, type Sums } from './sums.js';

export type { Burn } from './burn.js';

/** Money as everywhere in the admin API: USD, and the exact picodollars as a decimal string. */
export interface Money {
  cost: number;
  costPico: string;
}

export interface TrendsQuery {
  /** How many keys to list, highest forecast first (default 100). */
  keys?: number;
}

export interface KeyTrend {
  id: string;
  name: string;
  deleted: boolean;
  monthToDate: Money;
  /** The previous month's first days, as many as this month has begun. */
  previousSameSpan: Money;
  change: number | null;
  /** Mean daily cost of the last FORECAST_DAYS complete days (0 for a deleted key). */
  dailyRunRate: Money;
  forecast: Money;
  burns: Burn[];
}

export interface Trends {
  timeZone: string;
  at: string;
  month: string;
  /** Time left in the month, in days. */
  daysLeft: number;
  method: { forecast: string; burn: string };
  deployment: {
    monthToDate: ReportFigures;
    previousSameSpan: ReportFigures;
    /** Percent change of cost against the previous month's same span; null when that was 0. */
    change: number | null;
    dailyRunRate: Money;
    forecast: Money;
  };
  keys: KeyTrend[];
}

export const FORECAST_DAYS = 7;
const money = (pico: bigint): Money => ({ cost: picoToUsd(pico), costPico: pico.toString() });
const pico = (s: Sums | undefined) => BigInt(s?.costPico ?? '0');

const METHOD = {
  forecast:
    `month-end forecast = cost so far this month + the mean daily cost of the last ${FORECAST_DAYS} complete days ` +
    '× the days left in the month (a deleted key adds nothing more)',
  burn:
    "projected instant a limit is reached at the current pace: today's pace (cost today / time elapsed today) " +
    `for the daily limit, the ${FORECAST_DAYS}-day mean for the weekly (of the limit's model family) and total ` +
    'limits; null when that is not before the limit resets (or there is no spend); `at` once it is reached',
};

/**
 * Trends now: month to date against the same span of the previous month, a month-end forecast
 * for the deployment and every key, and each key's burn towards its cost limits.
 */
export async function trends(ctx: ReportContext, q: TrendsQuery = {}): Promise<Trends> {
  const { cal, deps } = ctx;
  const k = deps.store.keys;
  const at = deps.clock.now();
  const monthStart = cal.startOf(at, 'month');
  const monthEnd = cal.nextStart(at, 'month');
  const today = cal.startOf(at, 'day');
  const daysSoFar = cal.days(monthStart, cal.nextStart(at, 'day')).length;
  const prevStart = cal.startOf(monthStart - 1, 'month');
  let prevEnd = prevStart;
  for (let i = 0; i < daysSoFar && prevEnd < monthStart; i++) prevEnd = cal.nextStart(prevEnd, 'day');
  let rateFrom = today;
  for (let i = 0; i < FORECAST_DAYS; i++) rateFrom = cal.startOf(rateFrom - 1, 'day');

  const keys = await ctx.subjects('key');
  const live = new Map<string, ApiKeyRecord>((await deps.keys.list()).map((x) => [x.id, x]));
  const [mtd, prev, rate] = await Promise.all([
    ctx.spanSums(keys, 'key', monthStart, monthEnd), // whole month: the month buckets
    ctx.spanSums(keys, 'key', prevStart, prevEnd),
    ctx.spanSums(keys, 'key', rateFrom, today),
  ]);
  const leftMs = monthEnd - at;
  const forecastPico = (soFar: bigint, ratePico: bigint) =>
    soFar + (ratePico * BigInt(leftMs)) / BigInt(FORECAST_DAYS * DAY);
  const liveRate = (i: number) => (live.has(keys[i]!.id) ? pico(rate[i]) : 0n);

  const weeklyFamilyRate = async (key: ApiKeyRecord): Promise<bigint> => {
    const family = key.weeklyCostFamily.toLowerCase();
    const models = (await deps.store.redis.smembers(k.keyUsageModels(key.id))).filter((m) => modelFamily(m) === family);
    const days = cal.days(rateFrom, today);
    const [s] = await ctx.sum([models.flatMap((m) => days.map((d) => k.keyUsageModelDaily(key.id, m, d)))]);
    return pico(s);
  };

  const burnsOf = async (key: ApiKeyRecord, ratePico: bigint): Promise<Burn[]> => {
    const b = cal.bucketsOf(at);
    const used = async (hash: string, field = 'costPico') => BigInt((await deps.store.redis.hget(hash, field)) ?? '0');
    const perMs = (p: bigint) => Number(p) / (FORECAST_DAYS * DAY);
    const out: Burn[] = [];
    if (key.dailyCostLimit > 0) {
      const spent = await used(k.keyUsageDaily(key.id, b.day));
      const elapsed = at - today;
      const pace = elapsed > 0 ? Number(spent) / elapsed : 0;
      out.push(burn('daily', key.dailyCostLimit, spent, pace, at, cal.nextStart(at, 'day')));
    }
    if (key.weeklyCostLimit > 0) {
      const spent = await used(k.keyUsageWeekly(key.id, b.week), weeklyCostField(key.weeklyCostFamily));
      const r = key.weeklyCostFamily ? await weeklyFamilyRate(key) : ratePico;
      out.push(burn('weekly', key.weeklyCostLimit, spent, perMs(r), at, cal.nextStart(at, 'week')));
    }
    if (key.totalCostLimit > 0) {
      const spent = await used(k.keyUsageTotal(key.id as ApiKeyId));
      out.push(burn('total', key.totalCostLimit, spent, perMs(ratePico), at, null));
    }
    return out;
  };

  const rows = await Promise.all(
    keys.map(async (s, i): Promise<KeyTrend> => {
      const record = live.get(s.id);
      const r = liveRate(i);
      return {
        id: s.id,
        name: s.name,
        deleted: s.deleted,
        monthToDate: money(pico(mtd[i])),
        previousSameSpan: money(pico(prev[i])),
        change: pct(pico(mtd[i]), pico(prev[i])),
        dailyRunRate: money(r / BigInt(FORECAST_DAYS)),
        forecast: money(forecastPico(pico(mtd[i]), r)),
        burns: record ? await burnsOf(record, r) : [],
      };
    }),
  );
  const sumAll = (xs: Sums[]) => xs.reduce(addSums, emptySums());
  const depMtd = sumAll(mtd);
  const depPrev = sumAll(prev);
  const depRate = keys.reduce((n, _, i) => n + liveRate(i), 0n);
  return {
    timeZone: cal.timeZone,
    at: iso(at),
    month: cal.bucketsOf(at).month,
    daysLeft: Math.round((leftMs / DAY) * 1e4) / 1e4,
    method: METHOD,
    deployment: {
      monthToDate: reportFigures(depMtd),
      previousSameSpan: reportFigures(depPrev),
      change: pct(pico(depMtd), pico(depPrev)),
      dailyRunRate: money(depRate / BigInt(FORECAST_DAYS)),
      forecast: money(forecastPico(pico(depMtd), depRate)),
    },
    keys: rows
      .filter((r) => r.monthToDate.costPico !== '0' || r.dailyRunRate.costPico !== '0' || r.burns.length > 0)
      .sort((a, b) => b.forecast.cost - a.forecast.cost || (a.id < b.id ? -1 : 1))
      .slice(0, q.keys ?? 100),
  };
}
