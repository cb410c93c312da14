import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.js';
import { addAccount, ask, fresh, until, type PoolAccount } from '../support/pool.js';
import { parseExposition, total, type Sample } from '../support/prom.js';
import { startTestRelay, type TestRelay } from '../support/relay.js';
import { createLogger } from '../../src/util/log.js';

/**
 * The worker's metrics, in process: what the counters say after requests whose usage the fake
 * upstream reported, read back from the registry's exposition (what the primary sums per node).
 */

const scrape = async (relay: TestRelay): Promise<Sample[]> =>
  parseExposition(await relay.instance.metrics.registry.metrics());

const USAGE = {
  input_tokens: 40,
  output_tokens: 17,
  cache_read_input_tokens: 300,
  cache_creation_input_tokens: 70,
  cache_creation: { ephemeral_5m_input_tokens: 50, ephemeral_1h_input_tokens: 20 },
};

describe('relay metrics', () => {
  let fake: FakeAnthropic;
  let relay: TestRelay;
  let key: string;
  let keyId: string;
  let a: PoolAccount;
  let b: PoolAccount;
  const lines: Record<string, unknown>[] = [];

  beforeAll(async () => {
    fake = await startFakeAnthropic();
    const log = createLogger('info', {}, (line) => lines.push(JSON.parse(line) as Record<string, unknown>));
    relay = await startTestRelay({ log });
    a = await addAccount(relay.admin, fake, 'a', { priority: 1 });
    b = await addAccount(relay.admin, fake, 'b', { priority: 2 });
    ({ key, id: keyId } = await relay.admin.createKey({ name: 'metrics' }));
  });
  afterEach(() => fake.reset());
  afterAll(async () => {
    await relay?.close();
    await fake?.close();
  });

  it('counts requests and every token kind exactly as the upstream reported them, streamed or not', async () => {
    const before = await scrape(relay);
    fake.setDefault({ kind: 'message', usage: USAGE });
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await ask(relay.url, key, { stream: i % 2 === 0 }));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    const after = await scrape(relay);
    const delta = (name: string, match: Record<string, string> = {}) =>
      total(after, name, match) - total(before, name, match);

    const reported = fake.reported.reduce(
      (t, r) => ({
        input: t.input + r.usage.input_tokens,
        output: t.output + r.usage.output_tokens,
        read: t.read + (r.usage.cache_read_input_tokens ?? 0),
        w5m: t.w5m + (r.usage.cache_creation?.ephemeral_5m_input_tokens ?? 0),
        w1h: t.w1h + (r.usage.cache_creation?.ephemeral_1h_input_tokens ?? 0),
      }),
      { input: 0, output: 0, read: 0, w5m: 0, w1h: 0 },
    );
    expect(fake.reported).toHaveLength(6);
    expect(delta('relay_tokens_total', { type: 'input' })).toBe(reported.input);
    expect(delta('relay_tokens_total', { type: 'output' })).toBe(reported.output);
    expect(delta('relay_tokens_total', { type: 'cache_read' })).toBe(reported.read);
    expect(delta('relay_tokens_total', { type: 'cache_write_5m' })).toBe(reported.w5m);
    expect(delta('relay_tokens_total', { type: 'cache_write_1h' })).toBe(reported.w1h);
    expect(delta('relay_tokens_total', { platform: 'claude', model: 'claude-sonnet-4-5', type: 'input' })).toBe(
      reported.input,
    );
    expect(delta('relay_requests_total', { surface: 'anthropic.messages', status_class: '2xx' })).toBe(6);
    expect(delta('relay_requests_total', { stream: 'true' })).toBe(3);
    expect(delta('relay_request_duration_seconds_count', { platform: 'claude' })).toBe(6);
    expect(delta('relay_upstream_requests_total', { account_id: a.id, status_class: '2xx' })).toBe(6);
    expect(delta('relay_usage_events_total')).toBe(6);

    // The cost counter is the booked cost: the same number the usage API reports.
    const usage = await relay.admin.keyUsage(keyId);
    expect(total(after, 'relay_cost_usd_total')).toBeCloseTo(usage.total.cost, 12);
  });

  it('tells the relay time from the upstream time in Server-Timing, on answers and on errors', async () => {
    fake.setDefault({ kind: 'message', delayMs: 120 });
    for (const stream of [false, true]) {
      const r = await ask(relay.url, key, { stream });
      const timing = r.headers.get('server-timing') ?? '';
      const m = /^relay;dur=([\d.]+), upstream;dur=([\d.]+)$/.exec(timing);
      expect(m, timing).not.toBeNull();
      const [relayMs, upstreamMs] = [Number(m?.[1]), Number(m?.[2])];
      expect(upstreamMs).toBeGreaterThanOrEqual(115);
      expect(relayMs).toBeLessThan(upstreamMs);
    }
    const refused = await ask(relay.url, 'cr_' + '0'.repeat(64));
    expect(refused.status).toBe(401);
    expect(refused.headers.get('server-timing')).toMatch(/^relay;dur=[\d.]+, upstream;dur=0\.00$/);
  });

  it('counts errors by cause, failovers, cooling transitions and the account state', async () => {
    const before = await scrape(relay);
    const delta = (after: Sample[], name: string, match: Record<string, string> = {}) =>
      total(after, name, match) - total(before, name, match);

    expect((await ask(relay.url, 'cr_' + 'f'.repeat(64))).status).toBe(401);
    const badJson = await fetch(`${relay.url}/api/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': key, 'content-type': 'application/json' },
      body: '{"model": ',
    });
    expect(badJson.status).toBe(400);
    fake.script(a.apiKey, { kind: 'error', status: 400, type: 'invalid_request_error', message: 'bad' });
    expect((await ask(relay.url, key)).status).toBe(400);
    // a is overloaded: the request fails over to b and a cools down.
    fake.script(a.apiKey, { kind: 'error', status: 529, type: 'overloaded_error', message: 'busy' });
    expect((await ask(relay.url, key)).status).toBe(200);

    const after = await scrape(relay);
    expect(delta(after, 'relay_request_errors_total', { cause: 'auth' })).toBe(1);
    expect(delta(after, 'relay_request_errors_total', { cause: 'bad_request' })).toBe(1);
    expect(delta(after, 'relay_request_errors_total', { cause: 'upstream_4xx', platform: 'claude' })).toBe(1);
    expect(delta(after, 'relay_request_errors_total')).toBe(3);
    expect(delta(after, 'relay_requests_total', { status_class: '4xx' })).toBe(3);
    expect(delta(after, 'relay_failovers_total', { platform: 'claude', cause: 'upstream_529' })).toBe(1);
    expect(delta(after, 'relay_upstream_requests_total', { account_id: a.id, status_class: '529' })).toBe(1);
    expect(delta(after, 'relay_upstream_requests_total', { account_id: b.id, status_class: '2xx' })).toBe(1);
    expect(
      delta(after, 'relay_account_transitions_total', {
        platform: 'claude',
        to_state: 'cooling',
        reason: 'overloaded',
      }),
    ).toBe(1);
    // a cools for the sonnet family only; b is routable.
    expect(total(after, 'relay_account_state', { account_id: b.id, state: 'routable' })).toBe(1);
    expect(total(after, 'relay_account_info', { account_id: a.id, name: 'a', type: 'api-key' })).toBe(1);
    expect(total(after, 'relay_accounts_available', { platform: 'claude', group: 'all' })).toBeGreaterThanOrEqual(1);
    expect(total(after, 'relay_redis_up')).toBe(1);
  });

  it('counts sticky sessions: a conversation starts, then stays on its account', async () => {
    const before = await scrape(relay);
    const content = fresh('sticky');
    expect((await ask(relay.url, key, { content })).status).toBe(200);
    expect((await ask(relay.url, key, { content })).status).toBe(200);
    const after = await scrape(relay);
    const d = (result: string) =>
      total(after, 'relay_sticky_sessions_total', { result }) -
      total(before, 'relay_sticky_sessions_total', { result });
    expect([d('new'), d('hit'), d('moved')]).toEqual([1, 1, 0]);
  });

  it('writes one access line per request with its outcome, tokens and timings, and no secret', async () => {
    lines.length = 0;
    fake.setDefault({ kind: 'message', usage: USAGE });
    const r = await ask(relay.url, key, { stream: true });
    expect(r.status).toBe(200);
    await ask(relay.url, 'cr_' + '1'.repeat(64));
    await until('two access lines', () => lines.filter((l) => l.msg === 'request').length === 2);
    const [ok, refused] = lines.filter((l) => l.msg === 'request');
    expect(ok).toMatchObject({
      level: 'info',
      requestId: r.headers.get('x-request-id'),
      surface: 'anthropic.messages',
      keyId,
      platform: 'claude',
      model: 'claude-sonnet-4-5',
      stream: true,
      status: 200,
      outcome: 'ok',
      attempts: 1,
      tokens: { in: 40, out: 17, cacheRead: 300, cacheWrite: 70 },
    });
    expect([a.id, b.id]).toContain(ok?.accountId);
    expect(ok?.costUsd).toBeGreaterThan(0);
    expect(typeof ok?.overheadMs).toBe('number');
    expect(refused).toMatchObject({ status: 401, error: 'invalid_api_key', outcome: 'error' });
    const all = JSON.stringify(lines);
    expect(all).not.toContain(key);
    expect(all).not.toContain(a.apiKey);
    expect(all).not.toContain('1'.repeat(64));
  });
});

describe('GET /metrics on the main port', () => {
  let relay: TestRelay;
  let plain: TestRelay;
  const token = 'metrics-token-0123456789';
  beforeAll(async () => {
    relay = await startTestRelay({ env: { METRICS_TOKEN: token } });
    plain = await startTestRelay();
  });
  afterAll(async () => {
    await relay?.close();
    await plain?.close();
  });

  it('answers the scrape to the bearer token only, and does not exist without METRICS_TOKEN', async () => {
    expect((await fetch(`${relay.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${relay.url}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    const ok = await fetch(`${relay.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toMatch(/^text\/plain/);
    const samples = parseExposition(await ok.text());
    expect(samples.some((s) => s.name === 'relay_redis_up' && s.value === 1)).toBe(true);
    expect((await fetch(`${plain.url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(404);
  });
});

describe('METRICS_KEYS', () => {
  let fake: FakeAnthropic;
  let relay: TestRelay;
  beforeAll(async () => {
    fake = await startFakeAnthropic();
    relay = await startTestRelay();
    await addAccount(relay.admin, fake, 'k');
  });
  afterAll(async () => {
    await relay?.close();
    await fake?.close();
  });

  it('counts the listed keys under their own id and every other key as "other"', async () => {
    const watched = await relay.admin.createKey({ name: 'watched' });
    const unwatched = await relay.admin.createKey({ name: 'unwatched' });
    const listed = await startTestRelay({ prefix: relay.config.redisKeyPrefix, env: { METRICS_KEYS: watched.id } });
    try {
      for (const k of [watched, watched, unwatched]) expect((await ask(listed.url, k.key)).status).toBe(200);
      const samples = await scrape(listed);
      expect(total(samples, 'relay_key_requests_total', { key_id: watched.id })).toBe(2);
      expect(total(samples, 'relay_key_requests_total', { key_id: 'other' })).toBe(1);
      expect(samples.filter((s) => s.labels.key_id === unwatched.id)).toEqual([]);
      // Without the list, there is no per-key family at all.
      expect((await scrape(relay)).filter((s) => s.name === 'relay_key_requests_total')).toEqual([]);
    } finally {
      await listed.close();
    }
  });
});
