import { randomBytes } from 'node:crypto';
import type { AccountId } from '../ids.js';
import type { Store } from '../store/index.js';
import { picoToUsd, type TokenUsage } from '../usage/pricing.js';
import type { Streak } from './decide.js';
import type { ProbeResult, ProbeTotals } from './types.js';

/**
 * What probes keep per account, all under the account's hash tag (one MULTI per probe): the lock
 * held while one probes it, its streak and last probe, its history (7 days, capped) and what its
 * probes consumed (never booked to a key or to the account's usage: probes are not traffic).
 */

export const HISTORY_MS = 7 * 86_400_000;
export const HISTORY_CAP = 1_000;

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

export interface ProbeRecord extends Streak {
  lastProbeAt: number | null;
  /** When probes last brought the account back (its older real traffic no longer counts). */
  enabledAt: number | null;
}

const num = (v: string | undefined) => (v === undefined || v === '' ? null : Number(v));

export function createProbeRecords(store: Store) {
  const { redis, keys } = store;

  const readRecord = async (id: AccountId): Promise<ProbeRecord> => {
    const r = await redis.hgetall(keys.probeState(id));
    return {
      failures: num(r.failures) ?? 0,
      successes: num(r.successes) ?? 0,
      lastProbeAt: num(r.lastProbeAt),
      enabledAt: num(r.enabledAt),
    };
  };

  return {
    /** Takes the account's probe lock for `ms`; the release function, or null when someone holds it. */
    async lock(id: AccountId, ms: number): Promise<(() => Promise<void>) | null> {
      const key = keys.probeLock(id);
      const token = randomBytes(12).toString('hex');
      if ((await redis.set(key, token, 'PX', ms, 'NX')) !== 'OK') return null;
      return async () => {
        await redis.eval(RELEASE, 1, key, token);
      };
    },

    read: readRecord,
    readMany: (ids: readonly AccountId[]) => Promise.all(ids.map(readRecord)),

    /** One probe: its streak, its place in the history, and what it consumed. */
    async record(result: ProbeResult, atMs: number, streak: Streak, usage: TokenUsage, costPico: number) {
      const id = result.accountId;
      const history = keys.probeHistory(id);
      const totals = keys.probeTotals(id);
      await redis
        .multi()
        .hset(keys.probeState(id), {
          failures: streak.failures,
          successes: streak.successes,
          lastProbeAt: atMs,
        })
        .zadd(history, atMs, JSON.stringify(result))
        .zremrangebyscore(history, '-inf', atMs - HISTORY_MS)
        .zremrangebyrank(history, 0, -(HISTORY_CAP + 1))
        .pexpire(history, HISTORY_MS)
        .hincrby(totals, 'probes', 1)
        .hincrby(totals, 'inputTokens', usage.inputTokens)
        .hincrby(totals, 'outputTokens', usage.outputTokens)
        .hincrby(totals, 'cacheReadTokens', usage.cacheReadTokens)
        .hincrby(totals, 'cacheCreateTokens', usage.cacheCreate5mTokens + usage.cacheCreate1hTokens)
        .hincrby(totals, 'costPico', costPico)
        .exec();
    },

    /** The account is out: successes count again from zero. */
    async resetSuccesses(id: AccountId) {
      await redis.hset(keys.probeState(id), 'successes', 0);
    },

    async markEnabled(id: AccountId, at: number) {
      await redis.hset(keys.probeState(id), 'enabledAt', at);
    },

    async history(id: AccountId, limit: number): Promise<ProbeResult[]> {
      const raw = await redis.zrevrange(keys.probeHistory(id), 0, Math.max(0, limit - 1));
      return raw.map((r) => JSON.parse(r) as ProbeResult);
    },

    async totals(id: AccountId): Promise<ProbeTotals> {
      const r = await redis.hgetall(keys.probeTotals(id));
      const n = (f: string) => Number(r[f] ?? 0);
      const costPico = BigInt(r.costPico ?? '0');
      return {
        probes: n('probes'),
        inputTokens: n('inputTokens'),
        outputTokens: n('outputTokens'),
        cacheReadTokens: n('cacheReadTokens'),
        cacheCreateTokens: n('cacheCreateTokens'),
        tokens: n('inputTokens') + n('outputTokens') + n('cacheReadTokens') + n('cacheCreateTokens'),
        cost: picoToUsd(costPico),
        costPico: costPico.toString(),
      };
    },
  };
}

export type ProbeRecords = ReturnType<typeof createProbeRecords>;
