import http from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { manualClock } from '../../src/util/clock.js';
import { startFakeAnthropic, type FakeAnthropic, type Step } from '../fakes/anthropic.js';
import { listen } from '../fakes/server-kit.js';
import {
  addAccount,
  ask,
  health,
  iso,
  OPUS,
  patch,
  resetAccount,
  servedKeys,
  SONNET,
  type PoolAccount,
} from '../support/pool.js';
import { startTestRelay, type TestRelay } from '../support/relay.js';

/**
 * In-request failover: one account failing before the first byte costs the client nothing but
 * latency; the failing account's health says why and until when, for as long as the upstream
 * said; after the first byte nothing is retried; only the request's final outcome is booked.
 * "first" (priority 1) is always tried before "second" (priority 10).
 */

const SEC = 1000;

describe('failover before the first byte', () => {
  const clock = manualClock();
  let fake: FakeAnthropic;
  let relay: TestRelay;
  let first: PoolAccount;
  let second: PoolAccount;
  let key: { id: string; key: string };

  beforeAll(async () => {
    fake = await startFakeAnthropic();
    // A breaker that cannot open here: this file is about cooldowns (pool-breaker covers breakers).
    relay = await startTestRelay({ clock, env: { UPSTREAM_TIMEOUT: '1s', BREAKER_VOLUME: '100000' } });
    first = await addAccount(relay.admin, fake, 'first', { priority: 1 });
    second = await addAccount(relay.admin, fake, 'second', { priority: 10 });
  });
  afterAll(async () => {
    await relay?.close();
    await fake?.close();
  });
  beforeEach(async () => {
    fake.reset();
    await resetAccount(relay.admin, first.id);
    await resetAccount(relay.admin, second.id);
    key = await relay.admin.createKey();
  });

  /** Asks once; the answer must be the second account's success after the first one failed. */
  async function failsOver(step: Step, opts: { stream?: boolean; model?: string } = {}) {
    fake.script(first.apiKey, step);
    const res = await ask(relay.url, key.key, opts);
    expect(res.status, res.text).toBe(200);
    expect(servedKeys(fake)).toEqual([first.apiKey, second.apiKey]);
    return res;
  }

  const T = () => clock.now();

  it.each<[string, (now: number) => Record<string, string>, number]>([
    ['retry-after', () => ({ 'retry-after': '120' }), 120 * SEC],
    [
      'anthropic-ratelimit-unified-reset (epoch seconds)',
      (now) => ({ 'anthropic-ratelimit-unified-reset': String((now + 600 * SEC) / SEC) }),
      600 * SEC,
    ],
    [
      'anthropic-ratelimit-requests-remaining: 0 with -reset',
      (now) => ({
        'anthropic-ratelimit-requests-remaining': '0',
        'anthropic-ratelimit-requests-reset': iso(now + 45 * SEC),
      }),
      45 * SEC,
    ],
    ['no reset header (the short default, 60s)', () => ({}), 60 * SEC],
  ])(
    '429 with %s: served by the other account; cooled for the sonnet family exactly that long',
    async (_name, headersAt, ms) => {
      const now = T();
      const headers = headersAt(now);
      const res = await failsOver({ kind: 'error', status: 429, headers });
      expect(res.json).toMatchObject({
        type: 'message',
        content: [{ type: 'text', text: 'Hello from the fake upstream.' }],
      });

      const h = await health(relay.admin, first.id, SONNET);
      expect(h.routable).toBe(false);
      expect(h.blockers).toEqual([
        { reason: 'rate_limited', scope: 'sonnet', until: iso(now + ms), detail: 'HTTP 429' },
      ]);
      // Scoped to the model family: the same account still serves opus.
      expect((await health(relay.admin, first.id, OPUS)).routable).toBe(true);
      fake.reset();
      expect((await ask(relay.url, key.key, { model: OPUS })).status).toBe(200);
      expect(servedKeys(fake)).toEqual([first.apiKey]);

      // Cooled as long as the upstream said, not a moment longer.
      clock.advance(ms - SEC);
      expect((await ask(relay.url, key.key)).status).toBe(200);
      expect(servedKeys(fake)).toEqual([first.apiKey, second.apiKey]);
      clock.advance(2 * SEC);
      expect((await ask(relay.url, key.key)).status).toBe(200);
      expect(servedKeys(fake)).toEqual([first.apiKey, second.apiKey, first.apiKey]);
      expect((await health(relay.admin, first.id, SONNET)).blockers).toEqual([]);
    },
  );

  it('529 overloaded: served by the other account; the family cools for the short default (30s)', async () => {
    const now = T();
    await failsOver({ kind: 'error', status: 529 });
    expect((await health(relay.admin, first.id, SONNET)).blockers).toEqual([
      { reason: 'overloaded', scope: 'sonnet', until: iso(now + 30 * SEC), detail: 'HTTP 529' },
    ]);
    expect((await health(relay.admin, first.id, OPUS)).routable).toBe(true);
  });

  it('500: served by the other account; the whole account cools for the short default (15s)', async () => {
    const now = T();
    await failsOver({ kind: 'error', status: 500 });
    const blocker = { reason: 'server_error', scope: '*', until: iso(now + 15 * SEC), detail: 'HTTP 500' };
    expect((await health(relay.admin, first.id, SONNET)).blockers).toEqual([blocker]);
    expect((await health(relay.admin, first.id, OPUS)).blockers).toEqual([blocker]);
    fake.reset();
    await ask(relay.url, key.key, { model: OPUS });
    expect(servedKeys(fake)).toEqual([second.apiKey]);
  });

  it.each([401, 403])('%i: the account is unauthorized until an admin resets it', async (status) => {
    await failsOver({ kind: 'error', status, message: 'invalid x-api-key' });
    const h = await health(relay.admin, first.id, SONNET);
    expect(h.routable).toBe(false);
    expect(h.blockers).toEqual([
      { reason: 'unauthorized', scope: '*', until: null, detail: expect.stringContaining(`HTTP ${status}`) },
    ]);

    // No time heals it.
    clock.advance(2 * 86_400 * SEC);
    fake.reset();
    expect((await ask(relay.url, key.key)).status).toBe(200);
    expect((await ask(relay.url, key.key, { model: OPUS })).status).toBe(200);
    expect(servedKeys(fake)).toEqual([second.apiKey, second.apiKey]);

    await resetAccount(relay.admin, first.id);
    expect((await health(relay.admin, first.id, SONNET)).routable).toBe(true);
    expect((await ask(relay.url, key.key)).status).toBe(200);
    expect(servedKeys(fake)).toEqual([second.apiKey, second.apiKey, first.apiKey]);
  });

  it('a timeout (UPSTREAM_TIMEOUT=1s, the upstream hangs): served by the other account; the account cools', async () => {
    const now = T();
    const started = Date.now();
    await failsOver({ kind: 'hang' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect((await health(relay.admin, first.id, SONNET)).blockers).toEqual([
      { reason: 'timeout', scope: '*', until: iso(now + 15 * SEC), detail: 'HTTP 0' },
    ]);
  });

  it('the connection drops before the response headers: served by the other account; the account cools', async () => {
    const now = T();
    const res = await failsOver({ kind: 'cut', afterEvents: 0 }, { stream: true });
    expect(res.text).toContain('event: message_stop');
    expect((await health(relay.admin, first.id, SONNET)).blockers).toEqual([
      { reason: 'unreachable', scope: '*', until: iso(now + 15 * SEC), detail: 'HTTP 0' },
    ]);
  });

  it("a stream that breaks before its first complete event: the client gets the other account's whole stream", async () => {
    // An upstream that sends 200 and the first bytes of an event, then drops the connection.
    const broken = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('event: message_st');
        setTimeout(() => res.socket?.destroy(), 20);
      });
    });
    await patch(relay.admin, `/admin/accounts/${first.id}`, { baseUrl: `http://127.0.0.1:${await listen(broken)}` });
    try {
      const now = T();
      const res = await ask(relay.url, key.key, { stream: true });
      expect(res.status).toBe(200);
      expect(res.text.startsWith('event: message_start')).toBe(true);
      expect(res.text).toContain('event: message_stop');
      expect(res.text).not.toContain('event: error');
      expect(servedKeys(fake)).toEqual([second.apiKey]);
      expect((await health(relay.admin, first.id, SONNET)).blockers).toEqual([
        { reason: 'server_error', scope: '*', until: iso(now + 15 * SEC), detail: 'HTTP 502' },
      ]);
    } finally {
      await patch(relay.admin, `/admin/accounts/${first.id}`, { baseUrl: fake.url });
      broken.closeAllConnections();
      await new Promise((r) => broken.close(r));
    }
  });

  it("a stream whose first event is an error: the client gets the other account's whole stream", async () => {
    const res = await failsOver(
      { kind: 'stream-error', afterEvents: 0, type: 'overloaded_error', message: 'Overloaded' },
      { stream: true },
    );
    expect(res.text).toContain('event: message_stop');
    expect(res.text).not.toContain('event: error');
    expect((await health(relay.admin, first.id, SONNET)).blockers).toMatchObject([
      { reason: 'overloaded', scope: 'sonnet' },
    ]);
  });

  it('a successful failover is booked once, to the account that answered', async () => {
    const before = {
      first: (await relay.admin.accountUsage(first.id)).total.requests,
      second: (await relay.admin.accountUsage(second.id)).total.requests,
    };
    await failsOver({ kind: 'error', status: 529 });
    expect((await relay.admin.keyUsage(key.id)).total).toMatchObject({
      requests: 1,
      errors: 0,
      inputTokens: 25,
      outputTokens: 12,
    });
    expect((await relay.admin.accountUsage(first.id)).total.requests).toBe(before.first);
    expect((await relay.admin.accountUsage(second.id)).total.requests).toBe(before.second + 1);
  });

  it('when every attempt fails, the last upstream error goes back and only it is booked (errors=1)', async () => {
    fake.script(first.apiKey, { kind: 'error', status: 500, message: 'first is down' });
    fake.script(second.apiKey, { kind: 'error', status: 500, message: 'second is down' });
    const res = await ask(relay.url, key.key);
    expect(res.status).toBe(500);
    expect(res.message).toContain('second is down');
    expect(servedKeys(fake)).toEqual([first.apiKey, second.apiKey]);
    expect((await relay.admin.keyUsage(key.id)).total).toMatchObject({
      requests: 1,
      errors: 1,
      inputTokens: 0,
      outputTokens: 0,
    });
  });

  it('every account cooling: 429 accounts_rate_limited with retry-after until the first comes back', async () => {
    const now = T();
    fake.script(first.apiKey, { kind: 'error', status: 429, headers: { 'retry-after': '30' } });
    fake.script(second.apiKey, { kind: 'error', status: 429, headers: { 'retry-after': '90' } });
    const res = await ask(relay.url, key.key);
    // The upstream's own 429 (the last one), with its retry-after.
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('90');

    const refused = await ask(relay.url, key.key);
    expect(refused.status).toBe(429);
    expect(refused.type).toBe('rate_limit_error');
    expect(refused.headers.get('retry-after')).toBe('30');
    expect(refused.message).toContain(
      'None of the 2 claude or bedrock accounts for claude-sonnet-4-5 can take this request now: 2 rate limited.',
    );
    expect(refused.message).toContain(`The first is back at ${iso(now + 30 * SEC)}.`);
    expect(fake.requests).toHaveLength(2);

    clock.advance(31 * SEC);
    expect((await ask(relay.url, key.key)).status).toBe(200);
    expect(servedKeys(fake, 2)).toEqual([first.apiKey]);
  });

  describe('after the first byte: no retry', () => {
    it('a stream cut after message_start is passed through, not retried, and booked once with its input', async () => {
      fake.script(first.apiKey, { kind: 'cut', afterEvents: 1 });
      const res = await ask(relay.url, key.key, { stream: true });
      expect(res.status).toBe(200);
      expect(res.text).toContain('event: message_start');
      expect(res.text).toContain('event: error');
      expect(res.text).not.toContain('message_stop');
      expect(servedKeys(fake)).toEqual([first.apiKey]);
      const total = (await relay.admin.keyUsage(key.id)).total;
      expect(total).toMatchObject({ requests: 1, inputTokens: 25 });
    });

    it('an error event after message_start is passed through, not retried', async () => {
      fake.script(first.apiKey, {
        kind: 'stream-error',
        afterEvents: 3,
        type: 'overloaded_error',
        message: 'Overloaded mid-way',
      });
      const res = await ask(relay.url, key.key, { stream: true });
      expect(res.status).toBe(200);
      expect(res.text).toContain('Overloaded mid-way');
      expect(servedKeys(fake)).toEqual([first.apiKey]);
      expect((await relay.admin.keyUsage(key.id)).total.requests).toBe(1);
    });
  });
});

describe('UPSTREAM_MAX_ATTEMPTS', () => {
  let fake: FakeAnthropic;
  let relay: TestRelay;
  let accounts: PoolAccount[];

  beforeAll(async () => {
    fake = await startFakeAnthropic();
    relay = await startTestRelay({ clock: manualClock(), env: { UPSTREAM_MAX_ATTEMPTS: '2' } });
    accounts = [];
    for (const [i, name] of ['a', 'b', 'c'].entries())
      accounts.push(await addAccount(relay.admin, fake, name, { priority: i + 1 }));
  });
  afterAll(async () => {
    await relay?.close();
    await fake?.close();
  });

  it('tries at most that many accounts in one request', async () => {
    const [a, b, c] = accounts as [PoolAccount, PoolAccount, PoolAccount];
    const key = await relay.admin.createKey();
    fake.script(a.apiKey, { kind: 'error', status: 500 });
    fake.script(b.apiKey, { kind: 'error', status: 503 });
    const res = await ask(relay.url, key.key);
    expect(res.status).toBe(503);
    expect(servedKeys(fake)).toEqual([a.apiKey, b.apiKey]);
    // The third account was healthy all along: the next request finds it.
    expect((await ask(relay.url, key.key)).status).toBe(200);
    expect(servedKeys(fake)).toEqual([a.apiKey, b.apiKey, c.apiKey]);
  });
});
