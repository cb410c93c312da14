import { describe, expect, it } from 'vitest';
import { assess, HEALTHY, type AccountHealth, type Blocker, type Cooldown } from './health.js';

const NOW = Date.parse('2026-11-27T12:00:00Z');
const MIN = 60_000;

const health = (h: Partial<AccountHealth>): AccountHealth => ({
  cooldowns: [],
  unauthorized: null,
  breaker: null,
  autoDisabled: null,
  ...h,
});
const cool = (scope: string, until: number, reason: Cooldown['reason'] = 'rate_limited', status = 429): Cooldown => ({
  scope,
  until,
  reason,
  status,
});

/** The parts of each blocker the scheduler acts on. */
const summary = (blockers: Blocker[]) => blockers.map(({ reason, scope, until }) => ({ reason, scope, until }));

describe('assess', () => {
  it('a healthy account has no blockers and is not recoverable', () => {
    expect(assess(HEALTHY, 'opus', NOW)).toEqual({ blockers: [], recoverable: false });
    expect(assess(health({}), '*', NOW)).toEqual({ blockers: [], recoverable: false });
  });

  it.each<[string, Cooldown, string, boolean]>([
    ['account-wide cooldown blocks opus', cool('*', NOW + MIN), 'opus', true],
    ['account-wide cooldown blocks sonnet', cool('*', NOW + MIN), 'sonnet', true],
    ['account-wide cooldown blocks a non-Claude family', cool('*', NOW + MIN), 'gpt-4o', true],
    ['an opus cooldown blocks opus', cool('opus', NOW + MIN), 'opus', true],
    ['an opus cooldown leaves sonnet alone', cool('opus', NOW + MIN), 'sonnet', false],
    ['an opus cooldown leaves haiku alone', cool('opus', NOW + MIN), 'haiku', false],
    ['a sonnet cooldown blocks sonnet', cool('sonnet', NOW + 1), 'sonnet', true],
    ['an expired account-wide cooldown is ignored', cool('*', NOW - 1), 'opus', false],
    ['an expired family cooldown is ignored', cool('opus', NOW - MIN), 'opus', false],
    ['a cooldown ending exactly now is over', cool('opus', NOW), 'opus', false],
  ])('%s', (_name, c, family, blocked) => {
    const { blockers, recoverable } = assess(health({ cooldowns: [c] }), family, NOW);
    expect(summary(blockers)).toEqual(blocked ? [{ reason: c.reason, scope: c.scope, until: c.until }] : []);
    expect(recoverable).toBe(false);
  });

  it('reports each live cooldown that applies, with its reason and status', () => {
    const h = health({
      cooldowns: [
        cool('*', NOW + 5 * MIN, 'server_error', 503),
        cool('opus', NOW + 60 * MIN, 'rate_limited', 429),
        cool('sonnet', NOW + 10 * MIN),
        cool('opus', NOW - MIN, 'overloaded', 529),
      ],
    });
    const { blockers } = assess(h, 'opus', NOW);
    expect(summary(blockers)).toEqual([
      { reason: 'server_error', scope: '*', until: NOW + 5 * MIN },
      { reason: 'rate_limited', scope: 'opus', until: NOW + 60 * MIN },
    ]);
    expect(blockers.map((b) => b.detail)).toEqual(['HTTP 503', 'HTTP 429']);
  });

  it('unauthorized blocks everything until an admin acts (until null)', () => {
    const h = health({ unauthorized: { at: NOW - 10 * MIN, status: 401, message: 'invalid x-api-key' } });
    for (const family of ['opus', 'sonnet', '*']) {
      const { blockers, recoverable } = assess(h, family, NOW);
      expect(summary(blockers)).toEqual([{ reason: 'unauthorized', scope: '*', until: null }]);
      expect(blockers[0]?.detail).toContain('401');
      expect(recoverable).toBe(false);
    }
    // Time does not heal it.
    expect(summary(assess(h, 'opus', NOW + 365 * 24 * 60 * MIN).blockers)).toEqual([
      { reason: 'unauthorized', scope: '*', until: null },
    ]);
  });

  it.each<[string, number, Blocker[] | [], boolean]>([
    [
      'open breaker blocks until its reset',
      NOW + 30_000,
      [{ reason: 'breaker_open', scope: '*', until: NOW + 30_000 }],
      false,
    ],
    [
      'breaker open until 1 ms from now still blocks',
      NOW + 1,
      [{ reason: 'breaker_open', scope: '*', until: NOW + 1 }],
      false,
    ],
    ['breaker whose open period ends exactly now is recoverable', NOW, [], true],
    ['breaker whose open period has passed is recoverable', NOW - MIN, [], true],
  ])('%s', (_name, openUntil, blockers, recoverable) => {
    const h = health({ breaker: { openedAt: NOW - 2 * MIN, openUntil } });
    for (const family of ['opus', 'haiku']) {
      const r = assess(h, family, NOW);
      expect(summary(r.blockers)).toEqual(blockers);
      expect(r.recoverable).toBe(recoverable);
    }
  });

  it('the breaker moves from blocked to recoverable as time passes', () => {
    const h = health({ breaker: { openedAt: NOW, openUntil: NOW + 30_000 } });
    expect(assess(h, 'opus', NOW + 29_999)).toMatchObject({
      recoverable: false,
      blockers: [{ reason: 'breaker_open' }],
    });
    expect(assess(h, 'opus', NOW + 30_000)).toEqual({ blockers: [], recoverable: true });
    expect(assess(h, 'opus', NOW + 10 * MIN)).toEqual({ blockers: [], recoverable: true });
  });

  it('a family cooldown outlasting the breaker keeps blocking that family only', () => {
    const h = health({
      breaker: { openedAt: NOW - 2 * MIN, openUntil: NOW - MIN },
      cooldowns: [cool('opus', NOW + MIN)],
    });
    expect(summary(assess(h, 'opus', NOW).blockers)).toEqual([
      { reason: 'rate_limited', scope: 'opus', until: NOW + MIN },
    ]);
    expect(assess(h, 'sonnet', NOW)).toEqual({ blockers: [], recoverable: true });
  });

  it('everything at once: all blockers are listed', () => {
    const h = health({
      unauthorized: { at: NOW, status: 403, message: 'forbidden' },
      cooldowns: [cool('*', NOW + MIN, 'timeout', 0)],
      breaker: { openedAt: NOW, openUntil: NOW + 2 * MIN },
    });
    expect(summary(assess(h, 'sonnet', NOW).blockers)).toEqual([
      { reason: 'unauthorized', scope: '*', until: null },
      { reason: 'timeout', scope: '*', until: NOW + MIN },
      { reason: 'breaker_open', scope: '*', until: NOW + 2 * MIN },
    ]);
  });

  it('an automatic disable blocks every family until probes bring it back (until null), saying why', () => {
    const autoDisabled = { at: NOW - MIN, by: 'probe' as const, reason: '3 failed probes in a row (HTTP 503)' };
    for (const family of ['opus', 'haiku', '*']) {
      const { blockers, recoverable } = assess(health({ autoDisabled }), family, NOW + 365 * 24 * 60 * MIN);
      expect(blockers).toEqual([
        { reason: 'auto_disabled', scope: '*', until: null, detail: '3 failed probes in a row (HTTP 503)' },
      ]);
      expect(recoverable).toBe(false);
    }
  });

  it('does not modify the health record', () => {
    const h = health({ cooldowns: [cool('opus', NOW + MIN)], breaker: { openedAt: NOW, openUntil: NOW + MIN } });
    const before = structuredClone(h);
    assess(h, 'opus', NOW);
    assess(h, 'opus', NOW + 2 * MIN);
    expect(h).toEqual(before);
  });
});
