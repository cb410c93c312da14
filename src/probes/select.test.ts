import { describe, expect, it } from 'vitest';
import { HEALTHY, type AccountHealth } from '../accounts/health.js';
import type { AccountId } from '../ids.js';
import { dueAt, isIdle, jitter, selectProbes, suspicion, type Candidate } from './select.js';

const NOW = Date.parse('2026-11-27T12:00:00Z');
const MIN = 60_000;
const cfg = { intervalMs: 10 * MIN, idleMs: 10 * MIN, passiveErrorPercent: 50 };

let n = 0;
function candidate(
  over: Partial<Omit<Candidate, 'account'>> & { account?: Partial<Candidate['account']> } = {},
): Candidate {
  const { account, ...rest } = over;
  return {
    account: {
      id: `a_${String(++n).padStart(16, '0')}` as AccountId,
      active: true,
      probe: true,
      probeIntervalMs: null,
      lastUsedAt: null,
      ...account,
    },
    health: HEALTHY,
    passive: undefined,
    lastSeenAt: null,
    lastProbeAt: null,
    ...rest,
  };
}
const health = (h: Partial<AccountHealth>): AccountHealth => ({ ...HEALTHY, ...h });
const traffic = (requests: number, errors: number) => ({
  requests,
  errors,
  errorRatio: requests ? errors / requests : 0,
  ttfbAvgMs: null,
  lastSeenAt: NOW - MIN,
});

describe('selectProbes', () => {
  it('never probes an admin-disabled, unauthorized or opted-out account, even when suspect', () => {
    const suspect = health({ autoDisabled: { at: NOW, by: 'probe', reason: 'x' } });
    const picked = selectProbes(
      [
        candidate({ account: { active: false }, health: suspect }),
        candidate({ account: { probe: false }, health: suspect }),
        candidate({ health: { ...suspect, unauthorized: { at: NOW, status: 401, message: 'm' } } }),
      ],
      NOW,
      cfg,
    );
    expect(picked).toEqual([]);
  });

  it('probes idle accounts, not recently used ones', () => {
    const idle = candidate({ lastSeenAt: NOW - 11 * MIN });
    const never = candidate();
    const busy = candidate({ lastSeenAt: NOW - MIN });
    const usedRecently = candidate({ account: { lastUsedAt: NOW - 2 * MIN } });
    expect(selectProbes([idle, never, busy, usedRecently], NOW, cfg)).toEqual([
      { id: idle.account.id, why: 'idle' },
      { id: never.account.id, why: 'idle' },
    ]);
  });

  it('probes suspect accounts even when busy, first', () => {
    const idle = candidate();
    const cooling = candidate({
      lastSeenAt: NOW,
      health: health({ cooldowns: [{ scope: '*', until: NOW + MIN, reason: 'server_error', status: 503 }] }),
    });
    const failing = candidate({ lastSeenAt: NOW, passive: traffic(4, 3) });
    const breaker = candidate({
      lastSeenAt: NOW,
      health: health({ breaker: { openedAt: NOW - MIN, openUntil: NOW } }),
    });
    const rateLimited = candidate({
      lastSeenAt: NOW,
      health: health({ cooldowns: [{ scope: 'opus', until: NOW + MIN, reason: 'rate_limited', status: 429 }] }),
    });
    const picked = selectProbes([idle, cooling, failing, breaker, rateLimited], NOW, cfg);
    expect(picked).toEqual([
      { id: cooling.account.id, why: 'suspect' },
      { id: failing.account.id, why: 'suspect' },
      { id: breaker.account.id, why: 'suspect' },
      { id: idle.account.id, why: 'idle' },
    ]);
  });

  it('waits for the interval (its own, else the default) since the last probe', () => {
    const recent = candidate({ lastProbeAt: NOW - 5 * MIN });
    const old = candidate({ lastProbeAt: NOW - 12 * MIN });
    const ownShort = candidate({ lastProbeAt: NOW - 5 * MIN, account: { probeIntervalMs: 2 * MIN } });
    const ownLong = candidate({ lastProbeAt: NOW - 12 * MIN, account: { probeIntervalMs: 60 * MIN } });
    expect(selectProbes([recent, old, ownShort, ownLong], NOW, cfg).map((p) => p.id)).toEqual([
      old.account.id,
      ownShort.account.id,
    ]);
  });

  it('orders by the longest unprobed within a kind', () => {
    const a = candidate({ lastProbeAt: NOW - 20 * MIN });
    const b = candidate({ lastProbeAt: NOW - 40 * MIN });
    expect(selectProbes([a, b], NOW, cfg).map((p) => p.id)).toEqual([b.account.id, a.account.id]);
  });
});

describe('jitter and due times', () => {
  it('stays within ±10% and is stable for one account and one last probe', () => {
    const id = 'a_00000000000000ab' as AccountId;
    for (let i = 0; i < 200; i++) {
      const j = jitter(id, NOW + i * 1000);
      expect(Math.abs(j)).toBeLessThanOrEqual(0.1);
      expect(jitter(id, NOW + i * 1000)).toBe(j);
    }
    const spread = new Set(
      Array.from({ length: 50 }, (_, i) => jitter(`a_${String(i).padStart(16, '0')}` as AccountId, NOW)),
    );
    expect(spread.size).toBeGreaterThan(40);
  });

  it('is due an interval ±10% after the last probe, at once when never probed', () => {
    const a = { id: 'a_00000000000000cd' as AccountId, probeIntervalMs: null };
    expect(dueAt(a, null, cfg)).toBeNull();
    const due = dueAt(a, NOW, cfg) as number;
    expect(due).toBeGreaterThanOrEqual(NOW + 9 * MIN);
    expect(due).toBeLessThanOrEqual(NOW + 11 * MIN);
  });
});

describe('suspicion and idleness', () => {
  it('names why an account looks unwell', () => {
    expect(
      suspicion(candidate({ health: health({ autoDisabled: { at: 0, by: 'error_ratio', reason: 'r' } }) }), NOW, cfg),
    ).toBe('auto_disabled');
    expect(suspicion(candidate({ passive: traffic(10, 4) }), NOW, cfg)).toBeNull();
    expect(suspicion(candidate({ passive: traffic(2, 1) }), NOW, cfg)).toBe('errors');
    expect(suspicion(candidate(), NOW, cfg)).toBeNull();
  });

  it('takes the later of real traffic and the last booked use', () => {
    const c = candidate({ lastSeenAt: NOW - 20 * MIN, account: { lastUsedAt: NOW - 5 * MIN } });
    expect(isIdle(c, NOW, 10 * MIN)).toBe(false);
    expect(isIdle(c, NOW + 5 * MIN, 10 * MIN)).toBe(true);
  });
});
