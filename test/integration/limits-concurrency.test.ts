import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { freePort, spawnRelay, type RelayProcess } from '../e2e/process.js';
import { startFakeAnthropic, type FakeAnthropic, type Step } from '../fakes/anthropic.js';
import { addAccount, ask, until, type Answer, type PoolAccount } from '../support/pool.js';
import { startTestRelay, testEnv, uniquePrefix, type TestRelay } from '../support/relay.js';

/**
 * A key's concurrency limit, held in Redis leases: exact across two relay instances of one
 * deployment, with an optional wait for a free slot, and leases of a crashed relay expiring.
 */

interface Limits {
  concurrency: { inFlight: number; limit: number };
}

describe('key concurrency limit', () => {
  const prefix = uniquePrefix();
  let fake: FakeAnthropic;
  let one: TestRelay;
  let two: TestRelay;
  let account: PoolAccount;

  beforeAll(async () => {
    fake = await startFakeAnthropic();
    one = await startTestRelay({ prefix, env: { LEASE_TTL: '3s' } });
    two = await startTestRelay({ prefix, env: { LEASE_TTL: '3s' } });
    account = await addAccount(one.admin, fake, 'only');
  });
  afterAll(async () => {
    await one?.close();
    await two?.close();
    await fake?.close();
  });
  beforeEach(() => fake.reset());

  const slow = (n: number, delayMs: number) =>
    fake.script(account.apiKey, ...Array.from({ length: n }, (): Step => ({ kind: 'message', delayMs })));
  const limits = async (keyId: string) =>
    (await one.admin.request<Limits>('GET', `/admin/api-keys/${keyId}/limits`)).body;
  const expectConcurrencyRefusal = (res: Answer) => {
    expect(res.status, res.text).toBe(429);
    expect(res.type).toBe('rate_limit_error');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(res.message).toContain('concurrency limit');
  };

  it('a limit of 2 across two instances lets exactly 2 through at once; the others get 429 with retry-after', async () => {
    const { id, key } = await one.admin.createKey({ concurrencyLimit: 2 });
    slow(2, 1500);
    const running = [ask(one.url, key), ask(two.url, key)];
    await until('both to reach the upstream', () => fake.requests.length === 2);
    expect((await limits(id)).concurrency).toEqual({ inFlight: 2, limit: 2 });

    for (const relay of [one, two, one, two]) expectConcurrencyRefusal(await ask(relay.url, key));
    expect(fake.requests).toHaveLength(2);

    expect((await Promise.all(running)).map((r) => r.status)).toEqual([200, 200]);
    // Slots are back: both instances serve again; only what ran was booked.
    expect((await ask(two.url, key)).status).toBe(200);
    expect((await ask(one.url, key)).status).toBe(200);
    expect((await one.admin.keyUsage(id)).total).toMatchObject({ requests: 4, errors: 0 });
    expect((await limits(id)).concurrency.inFlight).toBe(0);
  });

  it('a simultaneous burst of 8 over both instances: exactly 2 succeed', async () => {
    const { id, key } = await one.admin.createKey({ concurrencyLimit: 2 });
    slow(8, 1200);
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => ask((i % 2 ? two : one).url, key)));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(2);
    for (const refused of answers.filter((a) => a.status !== 200)) expectConcurrencyRefusal(refused);
    expect(fake.requests).toHaveLength(2);
    expect((await one.admin.keyUsage(id)).total.requests).toBe(2);
  });

  it('with concurrencyWaitSeconds a request waits for a slot, on the other instance too, and then succeeds', async () => {
    const { key } = await one.admin.createKey({ concurrencyLimit: 1, concurrencyWaitSeconds: 5 });
    slow(1, 800);
    const first = ask(one.url, key);
    await until('the first to reach the upstream', () => fake.requests.length === 1);
    const started = Date.now();
    const second = ask(two.url, key);
    const upstreamWhenFirstDone = first.then(() => fake.requests.length);
    const [a, b] = await Promise.all([first, second]);
    expect([a.status, b.status]).toEqual([200, 200]);
    // The second reached the upstream only after the first had finished.
    expect(await upstreamWhenFirstDone).toBe(1);
    expect(fake.requests).toHaveLength(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
  });

  it('the wait is bounded: after concurrencyWaitSeconds the request is refused', async () => {
    const { key } = await one.admin.createKey({ concurrencyLimit: 1, concurrencyWaitSeconds: 1 });
    slow(1, 3000);
    const first = ask(one.url, key);
    await until('the first to reach the upstream', () => fake.requests.length === 1);
    const started = Date.now();
    expectConcurrencyRefusal(await ask(two.url, key));
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(900);
    expect(waited).toBeLessThan(2000);
    expect((await first).status).toBe(200);
  });
});

describe('leases of a crashed relay', () => {
  const prefix = uniquePrefix();
  let fake: FakeAnthropic;
  let survivor: TestRelay;
  let crashed: RelayProcess | undefined;

  beforeAll(async () => {
    fake = await startFakeAnthropic();
    survivor = await startTestRelay({ prefix, env: { LEASE_TTL: '3s' } });
    crashed = await spawnRelay(testEnv(prefix, { PORT: String(await freePort()), WORKERS: '1', LEASE_TTL: '3s' }));
  });
  afterAll(async () => {
    crashed?.killGroup();
    await survivor?.close();
    await fake?.close();
  });

  it('expire LEASE_TTL after the last renewal, freeing the slot for the rest of the deployment', async () => {
    const account = await addAccount(survivor.admin, fake, 'only');
    const { id, key } = await survivor.admin.createKey({ concurrencyLimit: 1 });
    fake.script(account.apiKey, { kind: 'hang' });
    const proc = crashed as RelayProcess;
    // A long request on the relay that will crash: it holds the key's only slot (renewed every second).
    void ask(proc.url, key).catch(() => undefined);
    await until('the request to reach the upstream', () => fake.requests.length === 1, 20_000);
    expect((await ask(survivor.url, key)).status).toBe(429);

    proc.killGroup();
    await proc.exited;
    const killedAt = Date.now();
    // The dead relay's lease is still there, and still counts...
    const limits = await survivor.admin.request<Limits>('GET', `/admin/api-keys/${id}/limits`);
    expect(limits.body.concurrency.inFlight).toBe(1);
    expect((await ask(survivor.url, key)).status).toBe(429);
    // ...until it expires: at least LEASE_TTL minus one renewal period (1s) after the crash.
    await until('the slot to be free', async () => (await ask(survivor.url, key)).status === 200, 10_000);
    const freedAfter = Date.now() - killedAt;
    expect(freedAfter).toBeGreaterThanOrEqual(1900);
    expect(freedAfter).toBeLessThan(4500);
    expect(fake.requests).toHaveLength(2);
  });
});
