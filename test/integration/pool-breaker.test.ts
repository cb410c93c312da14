import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../../src/util/clock.js';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.js';
import { addAccount, ask, health, iso, patch, servedKeys, SONNET, until, type PoolAccount } from '../support/pool.js';
import { startTestRelay, uniquePrefix, type TestRelay } from '../support/relay.js';

/**
 * Per-account circuit breakers (BREAKER_VOLUME=3, BREAKER_RESET=1s): repeated upstream failures
 * open the breaker in the worker that saw them, the open state is shared through Redis so a second
 * relay instance of the same deployment skips the account too, it becomes recoverable after the
 * reset, and healthy again after a success. Server-error cooldowns are short (100ms) and the clock
 * is moved past them, so what keeps the account out is the breaker alone.
 */

const ENV = { BREAKER_VOLUME: '3', BREAKER_RESET: '1s', BREAKER_ERROR_PERCENT: '50', COOLDOWN_SERVER_ERROR: '100ms' };

describe('account breakers shared through Redis', () => {
  const clock = manualClock();
  const prefix = uniquePrefix();
  let fake: FakeAnthropic;
  let one: TestRelay;
  let two: TestRelay;
  let sick: PoolAccount;
  let well: PoolAccount;
  let key: string;

  beforeAll(async () => {
    fake = await startFakeAnthropic();
    one = await startTestRelay({ prefix, clock, env: ENV });
    two = await startTestRelay({ prefix, clock, env: ENV });
    sick = await addAccount(one.admin, fake, 'sick', { priority: 1 });
    well = await addAccount(one.admin, fake, 'well', { priority: 10 });
    key = (await one.admin.createKey()).key;
  });
  afterAll(async () => {
    await one?.close();
    await two?.close();
    await fake?.close();
  });

  it('opens after repeated 500s, is skipped by the other instance, recovers after the reset and a success', async () => {
    fake.script(
      sick.apiKey,
      { kind: 'error', status: 500 },
      { kind: 'error', status: 500 },
      { kind: 'error', status: 500 },
    );
    for (let i = 0; i < 3; i++) {
      expect((await ask(one.url, key)).status).toBe(200);
      clock.advance(200); // past the 100ms server-error cooldown
    }
    expect(servedKeys(fake)).toEqual([sick.apiKey, well.apiKey, sick.apiKey, well.apiKey, sick.apiKey, well.apiKey]);
    const openedAt = clock.now() - 200;

    // The second instance never saw a failure, yet knows the breaker is open.
    const h = await until('the open breaker to reach the second instance', async () => {
      const h = await health(two.admin, sick.id, SONNET);
      return h.blockers.some((b) => b.reason === 'breaker_open') && h;
    });
    expect(h.routable).toBe(false);
    expect(h.blockers).toEqual([{ reason: 'breaker_open', scope: '*', until: iso(openedAt + 1000) }]);

    const from = fake.requests.length;
    for (let i = 0; i < 5; i++) expect((await ask(two.url, key)).status).toBe(200);
    expect(servedKeys(fake, from)).toEqual(Array(5).fill(well.apiKey));

    // Past the reset: recoverable (the half-open tier), below the healthy account.
    clock.advance(1000);
    expect(await health(two.admin, sick.id, SONNET)).toMatchObject({ routable: true, recoverable: true, blockers: [] });
    expect((await ask(two.url, key)).status).toBe(200);
    expect(servedKeys(fake, from + 5)).toEqual([well.apiKey]);

    // With nothing better, the recoverable account gets the probe; a success makes it healthy.
    await patch(one.admin, `/admin/accounts/${well.id}`, { schedulable: false });
    await until('the second instance to see the change', async () =>
      (await health(two.admin, well.id)).blockers.some((b) => b.reason === 'unschedulable'),
    );
    expect((await ask(two.url, key)).status).toBe(200);
    expect(servedKeys(fake, from + 6)).toEqual([sick.apiKey]);
    await until('the recovery to be shared', async () => {
      const h = await health(one.admin, sick.id, SONNET);
      return !h.recoverable && h.routable && h.blockers.length === 0;
    });
    await patch(one.admin, `/admin/accounts/${well.id}`, { schedulable: true });
    await until(
      'the second instance to see the change',
      async () => (await health(two.admin, well.id)).blockers.length === 0,
    );
    // Healthy again: preferred by priority on both instances.
    expect((await ask(two.url, key)).status).toBe(200);
    expect(servedKeys(fake, from + 7)).toEqual([sick.apiKey]);
  });

  it('connection failures count against the breaker too', async () => {
    // A port nobody listens on: every call is refused at once.
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const gone = await addAccount(one.admin, fake, 'gone', { priority: 1, baseUrl: `http://127.0.0.1:${port}` });
    await patch(one.admin, `/admin/accounts/${sick.id}`, { active: false });
    try {
      const from = fake.requests.length;
      for (let i = 0; i < 3; i++) {
        expect((await ask(one.url, key)).status).toBe(200);
        // tried first, refused, failed over
        expect((await health(one.admin, gone.id, SONNET)).blockers.map((b) => b.reason)).toContain('unreachable');
        clock.advance(200);
      }
      expect(servedKeys(fake, from)).toEqual(Array(3).fill(well.apiKey));
      // Three failures out of three calls: as with three 500s, the breaker is open.
      const h = await health(one.admin, gone.id, SONNET);
      expect(h.blockers.map((b) => b.reason)).toContain('breaker_open');
    } finally {
      await patch(one.admin, `/admin/accounts/${gone.id}`, { active: false });
      await patch(one.admin, `/admin/accounts/${sick.id}`, { active: true });
    }
  });
});
