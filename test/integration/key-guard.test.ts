import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.js';
import { startTwoInstances } from '../support/oauth.js';
import type { TestRelay } from '../support/relay.js';
import { waitFor } from '../support/wait.js';

/**
 * Relay-key guessing, throttled per client address across nodes: two relay instances of one
 * deployment (one Redis prefix) behind a "proxy" (loopback, trusted; the client's address comes in
 * X-Forwarded-For, as nginx appends it).
 */

const LIMIT = 5;

interface ErrorBody {
  error: { type: string; message: string; code?: string };
}
const ENV = { TRUST_PROXY: 'true', KEY_FAILURE_LIMIT: String(LIMIT), KEY_FAILURE_WINDOW: '1m' };

describe('invalid relay keys, throttled per client address across nodes', () => {
  let fake: FakeAnthropic;
  let a: TestRelay;
  let b: TestRelay;
  let goodKey: string;
  let accountBaseUrl: string;

  beforeAll(async () => {
    fake = await startFakeAnthropic();
    ({ a, b, relayKey: goodKey } = await startTwoInstances(ENV));
    accountBaseUrl = fake.url;
    await a.admin.createAccount({ apiKey: 'sk-ant-api03-guard-0000000000000000', baseUrl: accountBaseUrl });
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await fake?.close();
  });

  const ask = async (relay: TestRelay, key: string, from: string, surface: 'anthropic' | 'openai' = 'anthropic') => {
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-forwarded-for': from };
    let path = '/api/v1/messages';
    if (surface === 'anthropic') headers['x-api-key'] = key;
    else {
      headers.authorization = `Bearer ${key}`;
      path = '/openai/v1/chat/completions';
    }
    const res = await fetch(`${relay.url}${path}`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }),
    });
    return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as ErrorBody };
  };
  const unknownKey = (n: number) => `cr_${n.toString(16).padStart(64, 'f')}`;

  it('an unknown key and a malformed one get the same 401; past the limit, on either node, the address gets 429 for everything', async () => {
    const attacker = '198.51.100.7';
    const unknown = await ask(a, unknownKey(1), attacker);
    const malformed = await ask(b, 'not-a-key', attacker);
    expect([unknown.status, malformed.status]).toEqual([401, 401]);
    expect(malformed.body.error).toEqual(unknown.body.error);
    expect(unknown.body.error.type).toBe('authentication_error');
    // Spread over both nodes: the count is one, in Redis.
    for (let i = 2; i < LIMIT; i++) expect((await ask(i % 2 ? a : b, unknownKey(i), attacker)).status).toBe(401);
    const over = await ask(a, unknownKey(99), attacker, 'openai');
    expect(over.status).toBe(429);
    expect(over.body.error.code).toBe('too_many_key_failures');
    expect(Number(over.retryAfter)).toBeGreaterThan(50);
    expect(Number(over.retryAfter)).toBeLessThanOrEqual(60);

    // b learns of it from the bus, without a failure of its own: even a good key from there waits.
    await waitFor(() => b.instance.deps.keyGuard.blockedFor(attacker) > 0, { what: 'b to block the address' });
    const blocked = await ask(b, goodKey, attacker);
    expect(blocked.body.error.type).toBe('rate_limit_error');
    expect(blocked.body.error.message).toMatch(/invalid API keys from your address/);
    // Answered from memory: the upstream never saw these.
    expect(fake.requests).toHaveLength(0);

    // Everybody else is served, on both nodes.
    for (const relay of [a, b]) expect((await ask(relay, goodKey, '203.0.113.20')).status).toBe(200);
  });

  it('forged X-Forwarded-For entries do not move the count: the rightmost untrusted address is the client', async () => {
    const client = '198.51.100.44';
    for (let i = 0; i < LIMIT; i++) {
      // A different forged address each time, left of what the proxy appended.
      expect((await ask(a, unknownKey(1000 + i), `10.9.9.${i}, ${client}`)).status).toBe(401);
    }
    expect((await ask(b, unknownKey(2000), `192.0.2.1, ${client}`)).status).toBe(429);
    // The forged addresses were not blocked.
    expect((await ask(a, goodKey, '10.9.9.0')).status).toBe(200);
  });

  it('disabled keys are not guesses, and the proxies themselves (TRUSTED_PROXIES) are never blocked', async () => {
    const { id, key } = await a.admin.createKey({ name: 'to disable' });
    await a.admin.request('PATCH', `/admin/api-keys/${id}`, { active: false });
    const holder = '198.51.100.80';
    for (let i = 0; i < LIMIT + 3; i++) expect((await ask(a, key, holder)).status).toBe(401);
    expect((await ask(a, goodKey, holder)).status).toBe(200);

    // Straight from loopback (no X-Forwarded-For): counted for the alerts, never blocked.
    for (let i = 0; i < LIMIT + 3; i++) {
      const res = await fetch(`${a.url}/api/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': unknownKey(3000 + i), 'content-type': 'application/json' },
        body: '{}',
      });
      expect(res.status).toBe(401);
    }
  });
});
