import { LATENCY_BUCKETS_MS, quantile } from '../../usage/history.js';
import { picoToUsd } from '../../usage/pricing.js';
import { weeklyCostField } from '../../usage/recorder.js';
import type { Observation } from '../state.js';
import type { Signal, SignalContext } from './types.js';

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DEPLOYMENT = { key: 'deployment', labels: { scope: 'deployment' }, subject: 'the deployment' } as const;

/** The deployment's minute rollups covering the last `windowMs` (the current minute included). */
async function minutes(ctx: SignalContext, windowMs: number): Promise<Record<string, string>[]> {
  const last = Math.floor(ctx.now / MINUTE) * MINUTE;
  const starts: number[] = [];
  for (let t = last - Math.ceil(windowMs / MINUTE - 1) * MINUTE; t <= last; t += MINUTE) starts.push(t);
  return Promise.all(starts.map((t) => ctx.store.redis.hgetall(ctx.store.keys.metricsMinute(t))));
}

/** Hour rollups from `fromMs` up to the current hour. */
async function hours(ctx: SignalContext, fromMs: number): Promise<{ at: number; h: Record<string, string> }[]> {
  const last = Math.floor(ctx.now / HOUR) * HOUR;
  const starts: number[] = [];
  for (let t = Math.floor(fromMs / HOUR) * HOUR; t <= last; t += HOUR) starts.push(t);
  const hashes = await Promise.all(starts.map((t) => ctx.store.redis.hgetall(ctx.store.keys.metricsHour(t))));
  return starts.map((at, i) => ({ at, h: hashes[i] ?? {} }));
}

const num = (h: Record<string, string>, f: string) => Number(h[f] ?? 0);
const sum = (hs: readonly Record<string, string>[], f: string) => hs.reduce((a, h) => a + num(h, f), 0);
const tokensOf = (h: Record<string, string>) =>
  num(h, 'inputTokens') +
  num(h, 'outputTokens') +
  num(h, 'cacheReadTokens') +
  num(h, 'cacheCreate5mTokens') +
  num(h, 'cacheCreate1hTokens');

export const errorRatio: Signal = async (ctx, rule) => {
  const hs = await minutes(ctx, rule.windowMs);
  const requests = sum(hs, 'requests');
  const errors = sum(hs, 'errors');
  return [
    {
      ...DEPLOYMENT,
      value: requests > 0 ? errors / requests : 0,
      volume: requests,
      detail: `${errors} of ${requests} requests`,
    },
  ];
};

export const ttfbP95: Signal = async (ctx, rule) => {
  const hs = await minutes(ctx, rule.windowMs);
  const counts = LATENCY_BUCKETS_MS.map((_, i) => sum(hs, `ttfb:${i}`)).concat(
    sum(hs, `ttfb:${LATENCY_BUCKETS_MS.length}`),
  );
  const n = counts.reduce((a, b) => a + b, 0);
  const p95 = quantile(counts, 0.95);
  return p95 === null ? [] : [{ ...DEPLOYMENT, value: p95, volume: n, detail: `over ${n} requests` }];
};

/** The last 24 hours' spend against the average day of the 7 before; volume = that average in USD. */
export const costVs7dAverage: Signal = async (ctx) => {
  const hs = await ctx.memo('hours-8d', 5 * MINUTE, () => hours(ctx, ctx.now - 8 * 24 * HOUR));
  const cut = ctx.now - 24 * HOUR;
  let recent = 0n;
  let before = 0n;
  for (const { at, h } of hs) {
    const c = BigInt(h.costPico ?? '0');
    if (at + HOUR > cut) recent += c;
    else before += c;
  }
  const avg = picoToUsd(before) / 7;
  const today = picoToUsd(recent);
  return [
    {
      ...DEPLOYMENT,
      value: avg > 0 ? today / avg : 0,
      volume: avg,
      detail: `$${today.toFixed(2)} in 24 h, $${avg.toFixed(2)} a day on average`,
    },
  ];
};

/** Tokens of the last hour against the average hour of the day before; volume = the last hour's tokens. */
export const tokensVs24hAverage: Signal = async (ctx) => {
  const lastHour = (await minutes(ctx, HOUR)).reduce((a, h) => a + tokensOf(h), 0);
  const hs = await ctx.memo('hours-25h', 5 * MINUTE, () => hours(ctx, ctx.now - 25 * HOUR));
  const before = hs.filter(({ at }) => at + HOUR <= ctx.now - HOUR).reduce((a, { h }) => a + tokensOf(h), 0);
  const avg = before / 24;
  return [
    {
      ...DEPLOYMENT,
      value: avg > 0 ? lastHour / avg : 0,
      volume: lastHour,
      detail: `${lastHour} tokens in the last hour, ${Math.round(avg)} an hour before`,
    },
  ];
};

/** Per key and cost limit (daily, weekly, total): the share used, 1 = all of it. */
export const keyBudgetUsed: Signal = async (ctx) => {
  const keys = (await ctx.keys.list()).filter(
    (k) => k.active && (k.dailyCostLimit > 0 || k.weeklyCostLimit > 0 || k.totalCostLimit > 0),
  );
  const b = ctx.bucketsOf(ctx.now);
  const k = ctx.store.keys;
  const out: Observation[] = [];
  await Promise.all(
    keys.map(async (key) => {
      const [daily, weekly, total] = await Promise.all([
        ctx.store.redis.hget(k.keyUsageDaily(key.id, b.day), 'costPico'),
        ctx.store.redis.hget(k.keyUsageWeekly(key.id, b.week), weeklyCostField(key.weeklyCostFamily)),
        ctx.store.redis.hget(k.keyUsageTotal(key.id), 'costPico'),
      ]);
      const limits = [
        ['daily', key.dailyCostLimit, daily],
        ['weekly', key.weeklyCostLimit, weekly],
        ['total', key.totalCostLimit, total],
      ] as const;
      for (const [limit, usd, used] of limits) {
        if (usd <= 0) continue;
        const spent = picoToUsd(BigInt(used ?? '0'));
        out.push({
          key: `${key.id}:${limit}`,
          labels: { keyId: key.id, key: key.name, limit },
          subject: `key "${key.name}" (${key.id}), ${limit} limit`,
          value: spent / usd,
          detail: `$${spent.toFixed(2)} of $${usd}`,
        });
      }
    }),
  );
  return out;
};
