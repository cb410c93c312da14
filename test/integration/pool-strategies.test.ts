import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { manualClock, type Clock } from '../../src/util/clock.js';
import { startFakeAnthropic, type FakeAnthropic, type Step } from '../fakes/anthropic.js';
import { addAccount, ask, inParallel, patch, servedKeys, tally, type PoolAccount } from '../support/pool.js';
import { startTestRelay, type TestRelay } from '../support/relay.js';

/**
 * Each scheduling strategy (SCHEDULER_STRATEGY), measured over many requests to one relay
 * instance with three equal accounts. Every request opens a conversation of its own, so the
 * sticky mapping never decides.
 */

describe('scheduling strategies', () => {
  let fake: FakeAnthropic;
  let relay: TestRelay | undefined;

  beforeAll(async () => {
    fake = await startFakeAnthropic();
  });
  afterAll(async () => {
    await relay?.close();
    await fake?.close();
  });
  beforeEach(async () => {
    await relay?.close();
    relay = undefined;
    fake.reset();
  });
  async function deployment(
    strategy: string,
    settings: Record<string, unknown>[],
    clock?: Clock,
  ): Promise<{ r: TestRelay; key: string; accounts: PoolAccount[] }> {
    const r = await startTestRelay({ clock, env: { SCHEDULER_STRATEGY: strategy } });
    relay = r;
    const accounts: PoolAccount[] = [];
    for (const [i, s] of settings.entries())
      accounts.push(await addAccount(r.admin, fake, String.fromCharCode(97 + i), s));
    return { r, key: (await r.admin.createKey()).key, accounts };
  }

  /** `n` message steps for one account (its every answer for this test). */
  const steps = (n: number, step: Step) => Array.from({ length: n }, () => step);

  it('round-robin: exactly even, in a fixed rotation', async () => {
    const { r, key, accounts } = await deployment('round-robin', [{}, {}, {}]);
    for (let i = 0; i < 120; i++) expect((await ask(r.url, key)).status).toBe(200);
    expect(tally(fake, accounts)).toEqual({ a: 40, b: 40, c: 40 });
    const served = servedKeys(fake);
    for (let i = 3; i < served.length; i++) expect(served[i]).toBe(served[i - 3]);
  });

  it('weighted-round-robin: proportional to the weights (1:2:3)', async () => {
    const { r, key, accounts } = await deployment('weighted-round-robin', [
      { weight: 1 },
      { weight: 2 },
      { weight: 3 },
    ]);
    for (let i = 0; i < 120; i++) expect((await ask(r.url, key)).status).toBe(200);
    expect(tally(fake, accounts)).toEqual({ a: 20, b: 40, c: 60 });
    // Smooth: the heaviest account never serves more than 3 of any 6 requests in a row.
    const served = servedKeys(fake);
    for (let i = 0; i + 6 <= served.length; i += 6)
      expect(served.slice(i, i + 6).filter((k) => k === accounts[2]?.apiKey)).toHaveLength(3);
  });

  it('least-recently-used: even, every account used once in each run of three', async () => {
    const { r, key, accounts } = await deployment('least-recently-used', [{}, {}, {}]);
    for (let i = 0; i < 120; i++) expect((await ask(r.url, key)).status).toBe(200);
    expect(tally(fake, accounts)).toEqual({ a: 40, b: 40, c: 40 });
    const served = servedKeys(fake);
    for (let i = 0; i + 3 <= served.length; i += 3) expect(new Set(served.slice(i, i + 3)).size).toBe(3);
  });

  it('least-connections: with concurrent requests the slow account gets fewer', async () => {
    const { r, key, accounts } = await deployment('least-connections', [{}, {}, {}]);
    const [slow, b, c] = accounts as [PoolAccount, PoolAccount, PoolAccount];
    fake.script(slow.apiKey, ...steps(90, { kind: 'message', delayMs: 400 }));
    fake.script(b.apiKey, ...steps(90, { kind: 'message', delayMs: 30 }));
    fake.script(c.apiKey, ...steps(90, { kind: 'message', delayMs: 30 }));
    const statuses = await inParallel(90, 6, async () => (await ask(r.url, key)).status);
    expect(statuses.every((s) => s === 200)).toBe(true);
    const t = tally(fake, accounts);
    // Evenly spread this would be 30 each.
    expect(t.a, JSON.stringify(t)).toBeLessThanOrEqual(15);
    expect(t.b).toBeGreaterThan(2 * (t.a ?? 0));
    expect(t.c).toBeGreaterThan(2 * (t.a ?? 0));
  });

  it.each(['least-connections', 'least-recently-used', 'round-robin'])(
    '%s: a burst of concurrent requests on an idle pool is spread, not herded onto one account',
    async (strategy) => {
      // A clock that stands still: the whole burst happens in one millisecond.
      const { r, key, accounts } = await deployment(strategy, [{}, {}, {}], manualClock());
      for (const a of accounts) fake.script(a.apiKey, ...steps(6, { kind: 'message', delayMs: 300 }));
      const statuses = await Promise.all(Array.from({ length: 6 }, async () => (await ask(r.url, key)).status));
      expect(statuses).toEqual(Array(6).fill(200));
      expect(tally(fake, accounts)).toEqual({ a: 2, b: 2, c: 2 });
    },
  );

  it('least-recently-used: accounts picked in the same millisecond are still told apart by when they were picked', async () => {
    const clock = manualClock();
    const { r, key, accounts } = await deployment('least-recently-used', [{}, {}, {}], clock);
    const [s1, s2, s3] = [...accounts].sort((x, y) => (x.id < y.id ? -1 : 1)) as [
      PoolAccount,
      PoolAccount,
      PoolAccount,
    ];
    // At T0 the first and the third account (in id order) serve, the second is switched off.
    await patch(r.admin, `/admin/accounts/${s2.id}`, { schedulable: false });
    for (let i = 0; i < 2; i++) expect((await ask(r.url, key)).status).toBe(200);
    await patch(r.admin, `/admin/accounts/${s2.id}`, { schedulable: true });
    expect(servedKeys(fake)).toEqual([s1.apiKey, s3.apiKey]);
    // At T1, four requests in a row (one millisecond): s2 (never used), s1 (T0, before s3), s3, and
    // then s2 again, the least recently used of the three.
    clock.advance(1000);
    for (let i = 0; i < 4; i++) expect((await ask(r.url, key)).status).toBe(200);
    expect(servedKeys(fake, 2)).toEqual([s2.apiKey, s1.apiKey, s3.apiKey, s2.apiKey]);
  });

  it('fastest: after one measurement each, the account with the lower time to first byte gets the rest', async () => {
    const { r, key, accounts } = await deployment('fastest', [{}, {}]);
    const [slow] = accounts as [PoolAccount, PoolAccount];
    fake.script(slow.apiKey, ...steps(40, { kind: 'message', delayMs: 300 }));
    for (let i = 0; i < 40; i++) expect((await ask(r.url, key)).status).toBe(200);
    const t = tally(fake, accounts);
    expect(t, JSON.stringify(t)).toEqual({ a: 1, b: 39 });
  });
});
