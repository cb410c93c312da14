import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { manualClock } from '../../src/util/clock.js';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.js';
import { addAccount, ask, iso, OPUS, OPUS_COST, SONNET, SONNET_COST, type Answer } from '../support/pool.js';
import { startTestRelay, uniquePrefix, type TestRelay } from '../support/relay.js';

/**
 * Rate windows (requests, tokens, cost per N minutes) and budgets (daily, weekly optionally per
 * model family, total), with a manual clock: refusals say which limit and when it resets, book
 * nothing and never reach the upstream; windows reopen and days and weeks turn over when the clock
 * says so; and the counts hold across two relay instances of one deployment.
 * Every answer of the fake costs 25 input + 12 output tokens: sonnet $0.000255, opus $0.000425.
 */

const MIN = 60_000;
const DAY = 86_400_000;

interface Limits {
  window: {
    minutes: number;
    startedAt: string | null;
    resetsAt: string | null;
    requests: number;
    tokens: number;
    cost: number;
    limits: { requests: number; tokens: number; cost: number };
  };
  daily: { cost: number; limit: number };
  weekly: { cost: number; limit: number; family: string | null; weekStarting: string };
  total: { cost: number; limit: number };
}

const nextUtcMidnight = (ms: number) => Math.floor(ms / DAY) * DAY + DAY;
/** The next Monday 00:00 UTC after `ms`. */
const nextMonday = (ms: number) => {
  const midnight = nextUtcMidnight(ms);
  const daysToMonday = (8 - new Date(midnight).getUTCDay()) % 7;
  return midnight + daysToMonday * DAY;
};

describe('rate windows and budgets', () => {
  const clock = manualClock();
  const prefix = uniquePrefix();
  let fake: FakeAnthropic;
  let one: TestRelay;
  let two: TestRelay;

  beforeAll(async () => {
    fake = await startFakeAnthropic();
    one = await startTestRelay({ prefix, clock });
    two = await startTestRelay({ prefix, clock });
    await addAccount(one.admin, fake, 'only');
  });
  afterAll(async () => {
    await one?.close();
    await two?.close();
    await fake?.close();
  });
  beforeEach(() => fake.reset());

  const limits = async (keyId: string) =>
    (await one.admin.request<Limits>('GET', `/admin/api-keys/${keyId}/limits`)).body;
  const ok = async (key: string, model = SONNET, relay = one) => {
    clock.advance(1_000);
    const res = await ask(relay.url, key, { model });
    expect(res.status, res.text).toBe(200);
  };
  /** A refused request: nothing reaches the upstream, nothing is booked. */
  const refused = async (keyId: string, key: string, status: number, model = SONNET): Promise<Answer> => {
    const upstream = fake.requests.length;
    const booked = (await one.admin.keyUsage(keyId)).total.requests;
    const res = await ask(one.url, key, { model });
    expect(res.status, res.text).toBe(status);
    expect(fake.requests).toHaveLength(upstream);
    expect((await one.admin.keyUsage(keyId)).total.requests).toBe(booked);
    return res;
  };
  const retryAfter = (res: Answer) => Number(res.headers.get('retry-after'));

  it('requests per window: 429 rate_limited with retry-after to the window end; allowed again after it', async () => {
    const { id, key } = await one.admin.createKey({ rateWindowMinutes: 1, rateLimitRequests: 3 });
    clock.advance(1_000);
    const start = clock.now() + 1_000; // the window opens with the first request
    for (let i = 0; i < 3; i++) await ok(key);
    const l = await limits(id);
    expect(l.window).toMatchObject({
      minutes: 1,
      startedAt: iso(start),
      resetsAt: iso(start + MIN),
      requests: 3,
      limits: { requests: 3 },
    });

    const res = await refused(id, key, 429);
    expect(res.type).toBe('rate_limit_error');
    expect(res.message).toContain('3 requests per 1 minutes');
    expect(res.message).toContain(iso(start + MIN));
    expect(retryAfter(res)).toBe(Math.ceil((start + MIN - clock.now()) / 1000));
    clock.advance(20_000);
    expect(retryAfter(await refused(id, key, 429))).toBe(Math.ceil((start + MIN - clock.now()) / 1000));

    clock.set(start + MIN);
    await ok(key);
    expect((await limits(id)).window).toMatchObject({ requests: 1, startedAt: iso(clock.now()) });
  });

  it('tokens per window: counts every booked token; refused once booked + prompt estimate exceeds it', async () => {
    // Each prompt estimates to fewer than 43 tokens (docs/TOKENS.md): 37 booked + it fits 80, 74 + it does not.
    const { id, key } = await one.admin.createKey({ rateWindowMinutes: 5, rateLimitTokens: 80 });
    await ok(key);
    await ok(key);
    expect((await limits(id)).window.tokens).toBe(74);
    const res = await refused(id, key, 429);
    expect(res.message).toContain('80 tokens per 5 minutes');
    expect(retryAfter(res)).toBeGreaterThan(0);
    clock.advance(5 * MIN);
    await ok(key);
    expect((await limits(id)).window.tokens).toBe(37);
  });

  it('cost per window: refused once the booked cost reaches the limit', async () => {
    const { id, key } = await one.admin.createKey({ rateWindowMinutes: 10, rateLimitCost: 0.0005 });
    await ok(key);
    await ok(key);
    expect((await limits(id)).window.cost).toBeCloseTo(2 * SONNET_COST, 12);
    const res = await refused(id, key, 429);
    expect(res.message).toContain('$0.0005 per 10 minutes');
    clock.advance(10 * MIN);
    await ok(key);
  });

  it('daily budget: 402 budget_exceeded until the next day', async () => {
    const { id, key } = await one.admin.createKey({ dailyCostLimit: 0.0005 });
    await ok(key);
    await ok(key);
    expect((await limits(id)).daily).toMatchObject({ cost: expect.closeTo(2 * SONNET_COST, 12), limit: 0.0005 });
    const res = await refused(id, key, 402);
    const midnight = nextUtcMidnight(clock.now());
    expect(res.type).toBe('billing_error');
    expect(res.message).toContain('Daily cost limit of $0.0005');
    expect(res.message).toContain(iso(midnight));
    expect(retryAfter(res)).toBe(Math.ceil((midnight - clock.now()) / 1000));

    clock.set(midnight - 1_000);
    await refused(id, key, 402);
    clock.set(midnight);
    await ok(key);
    expect((await limits(id)).daily.cost).toBeCloseTo(SONNET_COST, 12);
  });

  it('weekly budget for the opus family: opus refused, sonnet still allowed, both again next week', async () => {
    const { id, key } = await one.admin.createKey({ weeklyCostLimit: 0.0008, weeklyCostFamily: 'opus' });
    for (let i = 0; i < 4; i++) await ok(key, SONNET); // sonnet does not count
    await ok(key, OPUS);
    await ok(key, OPUS);
    expect((await limits(id)).weekly).toMatchObject({
      cost: expect.closeTo(2 * OPUS_COST, 12),
      limit: 0.0008,
      family: 'opus',
    });
    const res = await refused(id, key, 402, OPUS);
    const monday = nextMonday(clock.now());
    expect(res.message).toContain('Weekly cost limit of $0.0008 for opus models');
    expect(res.message).toContain(iso(monday));
    await ok(key, SONNET);

    clock.set(monday);
    await ok(key, OPUS);
    expect((await limits(id)).weekly.cost).toBeCloseTo(OPUS_COST, 12);
  });

  it('total budget: refused for good', async () => {
    const { id, key } = await one.admin.createKey({ totalCostLimit: 0.0005 });
    await ok(key);
    await ok(key);
    const res = await refused(id, key, 402);
    expect(res.message).toContain('Total cost limit of $0.0005');
    clock.advance(400 * DAY);
    await refused(id, key, 402);
    expect((await limits(id)).total).toMatchObject({ cost: expect.closeTo(2 * SONNET_COST, 12), limit: 0.0005 });
  });

  describe('across two relay instances', () => {
    it('rateLimitRequests 5, requests alternating between the instances: exactly 5 succeed', async () => {
      const { id, key } = await one.admin.createKey({ rateWindowMinutes: 60, rateLimitRequests: 5 });
      const statuses: number[] = [];
      for (let i = 0; i < 10; i++) statuses.push((await ask((i % 2 ? two : one).url, key)).status);
      expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429, 429, 429, 429]);
      expect(fake.requests).toHaveLength(5);
      expect((await limits(id)).window.requests).toBe(5);
    });

    it('a simultaneous burst of 12 over both instances against a limit of 5: exactly 5 succeed', async () => {
      const { id, key } = await one.admin.createKey({ rateWindowMinutes: 60, rateLimitRequests: 5 });
      const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => ask((i % 2 ? two : one).url, key)));
      expect(answers.filter((a) => a.status === 200)).toHaveLength(5);
      expect(answers.filter((a) => a.status === 429)).toHaveLength(7);
      expect(fake.requests).toHaveLength(5);
      expect((await one.admin.keyUsage(id)).total.requests).toBe(5);
    });

    it('a daily budget booked on one instance refuses on the other', async () => {
      const { id, key } = await one.admin.createKey({ dailyCostLimit: 0.0005 });
      await ok(key, SONNET, one);
      await ok(key, SONNET, two);
      const res = await ask(two.url, key);
      expect(res.status).toBe(402);
      expect(fake.requests).toHaveLength(2);
      expect((await limits(id)).daily.cost).toBeCloseTo(2 * SONNET_COST, 12);
    });
  });
});
