import { setTimeout as sleep } from 'node:timers/promises';
import { RelayError } from '../errors/catalogue.js';
import type { ApiKeyRecord } from '../keys/service.js';
import type { Store } from '../store/index.js';
import type { Buckets } from '../usage/buckets.js';
import { picoToUsd } from '../usage/pricing.js';
import type { Clock } from '../util/clock.js';
import { anyGlob, modelFamily } from '../util/models.js';
import type { Lease, Leases } from '../leases/index.js';
import { weeklyCostField } from '../usage/recorder.js';
import { defineAdmitScript, type Verdict } from './admit-script.js';
import type { ClientName } from './clients.js';
import { RELEASE_LUA, readWindow } from './window.js';

const USD_TO_PICO = 1e12;

/**
 * Per-key limits. Two steps:
 *  - authorize: platform, model and client restrictions (no Redis; 403 when refused);
 *  - admit: budgets, rate window and concurrency, atomically in Redis (one Lua call in the key's
 *    slot, correct across workers and nodes). Budgets refuse with 402, the window and
 *    concurrency with 429 and `retry-after`. Nothing is booked for a refused request.
 * Budgets compare what is already booked; requests in flight when a budget is crossed finish
 * and are booked.
 */
export interface LimitService {
  /** Returns the platforms the key may use for this request (throws when none, or model/client refused). */
  authorize<P extends string>(
    key: ApiKeyRecord,
    req: { platforms: readonly P[]; model: string; client: ClientName | null },
  ): P[];
  /** Returns the key's concurrency lease (null when the key has no concurrency limit). */
  admit(
    key: ApiKeyRecord,
    req: { model: string; requestId: string; gone(): boolean; estimate?: number },
  ): Promise<Lease | null>;
  /** Releases a prompt reservation that no booking will release (see window.ts). */
  releaseReserved(key: ApiKeyRecord, tokens: number): Promise<void>;
  /** The key's current use of each limit (admin API). */
  usage(key: ApiKeyRecord): Promise<KeyLimitUsage>;
}

export interface KeyLimitUsage {
  concurrency: { inFlight: number; limit: number };
  window: {
    minutes: number;
    startedAt: string | null;
    resetsAt: string | null;
    requests: number;
    tokens: number;
    cost: number;
    limits: { requests: number; tokens: number; cost: number };
  };
  daily: { cost: number; limit: number; resetsAt: string };
  weekly: { cost: number; limit: number; family: string | null; weekStarting: string; resetsAt: string };
  total: { cost: number; limit: number };
}

const hasBudgetOrWindow = (k: ApiKeyRecord) =>
  k.dailyCostLimit > 0 ||
  k.weeklyCostLimit > 0 ||
  k.totalCostLimit > 0 ||
  (k.rateWindowMinutes > 0 && (k.rateLimitRequests > 0 || k.rateLimitTokens > 0 || k.rateLimitCost > 0));

/**
 * Whether admission wants the prompt's token estimate: only keys with a token window (the others
 * pay nothing). An admitted request with an estimate has reserved it in the window.
 */
export const wantsEstimate = (k: ApiKeyRecord): boolean => k.rateWindowMinutes > 0 && k.rateLimitTokens > 0;

const iso = (ms: number) => new Date(ms).toISOString();

export function createLimitService(deps: {
  store: Store;
  clock: Clock;
  bucketsOf: (ms: number) => Buckets;
  leases: Leases;
}): LimitService {
  const { store, clock, bucketsOf, leases } = deps;
  const k = store.keys;
  const admitScript = defineAdmitScript(store.redis);
  store.redis.defineCommand('crsReleaseReserved', { numberOfKeys: 1, lua: RELEASE_LUA });
  const releaseCmd = store.redis as unknown as { crsReleaseReserved(key: string, by: number): Promise<number> };

  const refuse = (
    verdict: Exclude<Verdict, 'ok'>,
    key: ApiKeyRecord,
    resetAt: number,
    model: string,
    estimate: number,
  ): RelayError => {
    const now = clock.now();
    const retryAfter = (until: number) => ({ 'retry-after': String(Math.max(1, Math.ceil((until - now) / 1000))) });
    switch (verdict) {
      case 'concurrency':
        return new RelayError('concurrency_limited', {
          message: `This API key already has ${key.concurrencyLimit} request(s) in flight (its concurrency limit); retry when one finishes.`,
          headers: { 'retry-after': '1' },
        });
      case 'window_requests':
      case 'window_tokens':
      case 'window_cost': {
        const what =
          verdict === 'window_requests'
            ? `${key.rateLimitRequests} requests`
            : verdict === 'window_tokens'
              ? `${key.rateLimitTokens} tokens`
              : `$${key.rateLimitCost}`;
        return new RelayError('rate_limited', {
          message: `Rate limit reached: ${what} per ${key.rateWindowMinutes} minutes. The window resets at ${iso(resetAt)}.`,
          headers: retryAfter(resetAt),
        });
      }
      case 'prompt_too_large':
        return new RelayError('rate_limited', {
          message:
            `This prompt is about ${estimate} tokens, more than this API key's whole rate limit of ` +
            `${key.rateLimitTokens} tokens per ${key.rateWindowMinutes} minutes; it can never be admitted.`,
          headers: retryAfter(resetAt),
        });
      case 'daily': {
        const tomorrow = nextDayStart(bucketsOf, now);
        return new RelayError('budget_exceeded', {
          message: `Daily cost limit of $${key.dailyCostLimit} reached; it resets at ${iso(tomorrow)}.`,
          headers: retryAfter(tomorrow),
        });
      }
      case 'weekly': {
        const next = nextWeekStart(bucketsOf, now);
        const scope = key.weeklyCostFamily ? ` for ${key.weeklyCostFamily} models` : '';
        return new RelayError('budget_exceeded', {
          message: `Weekly cost limit of $${key.weeklyCostLimit}${scope} reached (model ${model}); it resets at ${iso(next)}.`,
          headers: retryAfter(next),
        });
      }
      case 'total':
        return new RelayError('budget_exceeded', { message: `Total cost limit of $${key.totalCostLimit} reached.` });
    }
  };

  const runAdmit = async (key: ApiKeyRecord, model: string, leaseId: string, estimate: number) => {
    const now = clock.now();
    const b = bucketsOf(now);
    const familyGate = key.weeklyCostFamily === '' || modelFamily(model) === key.weeklyCostFamily.toLowerCase();
    return admitScript(
      [
        k.keyLeases(key.id),
        k.keyWindow(key.id),
        k.keyUsageDaily(key.id, b.day),
        k.keyUsageWeekly(key.id, b.week),
        k.keyUsageTotal(key.id),
      ],
      [
        now,
        leaseId,
        leases.leaseMs,
        key.concurrencyLimit,
        key.rateWindowMinutes * 60_000,
        key.rateLimitRequests,
        key.rateLimitTokens,
        Math.round(key.rateLimitCost * USD_TO_PICO),
        Math.round(key.dailyCostLimit * USD_TO_PICO),
        familyGate ? Math.round(key.weeklyCostLimit * USD_TO_PICO) : 0,
        weeklyCostField(key.weeklyCostFamily),
        Math.round(key.totalCostLimit * USD_TO_PICO),
        estimate,
      ],
    );
  };

  return {
    authorize(key, req) {
      const platforms = key.permissions
        ? req.platforms.filter((p) => key.permissions?.includes(p))
        : [...req.platforms];
      if (platforms.length === 0) {
        throw new RelayError('platform_not_allowed', {
          message: `This API key may not use ${req.platforms.join(' or ')}; it is allowed: ${key.permissions?.join(', ')}.`,
        });
      }
      if ((key.modelAllow && !anyGlob(key.modelAllow, req.model)) || anyGlob(key.modelDeny, req.model)) {
        throw new RelayError('model_not_allowed', { message: `This API key may not use the model ${req.model}.` });
      }
      const clients = key.allowedClients;
      if (clients && (!req.client || !clients.includes(req.client))) {
        throw new RelayError('client_not_allowed', {
          message: `This API key may only be used from ${clients.join(', ')}${req.client ? `, not ${req.client}` : ''}.`,
        });
      }
      return platforms;
    },

    async admit(key, req) {
      if (key.concurrencyLimit <= 0 && !hasBudgetOrWindow(key)) return null;
      const deadline = clock.now() + key.concurrencyWaitSeconds * 1000;
      let delay = 25;
      for (;;) {
        const estimate = wantsEstimate(key) ? Math.max(0, Math.ceil(req.estimate ?? 0)) : 0;
        const { verdict, resetAt } = await runAdmit(key, req.model, req.requestId, estimate);
        if (verdict === 'ok') return key.concurrencyLimit > 0 ? leases.holdKey(key.id, req.requestId) : null;
        // A full concurrency limit may be waited out (the optional queue); nothing else is.
        if (verdict !== 'concurrency' || clock.now() >= deadline || req.gone())
          throw refuse(verdict, key, resetAt, req.model, estimate);
        await sleep(delay * (0.8 + Math.random() * 0.4));
        delay = Math.min(delay * 2, 250);
      }
    },

    async releaseReserved(key, tokens) {
      if (tokens > 0) await releaseCmd.crsReleaseReserved(k.keyWindow(key.id), tokens);
    },

    async usage(key) {
      const now = clock.now();
      const b = bucketsOf(now);
      const redis = store.redis;
      const [inFlight, window, daily, weekly, total] = await Promise.all([
        leases.keyInFlight(key.id),
        readWindow(store, key.id, key.rateWindowMinutes * 60_000, now),
        redis.hget(k.keyUsageDaily(key.id, b.day), 'costPico'),
        redis.hget(k.keyUsageWeekly(key.id, b.week), weeklyCostField(key.weeklyCostFamily)),
        redis.hget(k.keyUsageTotal(key.id), 'costPico'),
      ]);
      return {
        concurrency: { inFlight, limit: key.concurrencyLimit },
        window: {
          minutes: key.rateWindowMinutes,
          startedAt: window.startedAt === null ? null : iso(window.startedAt),
          resetsAt: window.resetsAt === null ? null : iso(window.resetsAt),
          requests: window.requests,
          tokens: window.tokens,
          cost: picoToUsd(window.costPico),
          limits: { requests: key.rateLimitRequests, tokens: key.rateLimitTokens, cost: key.rateLimitCost },
        },
        daily: {
          cost: picoToUsd(BigInt(daily ?? '0')),
          limit: key.dailyCostLimit,
          resetsAt: iso(nextDayStart(bucketsOf, now)),
        },
        weekly: {
          cost: picoToUsd(BigInt(weekly ?? '0')),
          limit: key.weeklyCostLimit,
          family: key.weeklyCostFamily || null,
          weekStarting: b.week,
          resetsAt: iso(nextWeekStart(bucketsOf, now)),
        },
        total: { cost: picoToUsd(BigInt(total ?? '0')), limit: key.totalCostLimit },
      };
    },
  };
}

/** Start of the next stats day, found by stepping forward until the day name changes. */
function nextDayStart(bucketsOf: (ms: number) => Buckets, now: number): number {
  const today = bucketsOf(now).day;
  let t = now - (now % 900_000);
  while (bucketsOf(t).day === today) t += 900_000;
  return t;
}

function nextWeekStart(bucketsOf: (ms: number) => Buckets, now: number): number {
  const week = bucketsOf(now).week;
  let t = now - (now % 900_000);
  while (bucketsOf(t).week === week) t += 3_600_000;
  // back to the exact quarter hour the week changed at
  while (bucketsOf(t - 900_000).week !== week) t -= 900_000;
  return t;
}
