import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.js';
import { startTestRelay, uniquePrefix, type TestRelay } from '../support/relay.js';

/** How soon a change made on one node must be seen on another (pub/sub, not the cache TTL). */
const DEADLINE_MS = 500;

/**
 * Polls `probe` as fast as it can until it is true; returns the milliseconds it took, or fails
 * once DEADLINE_MS have passed.
 */
async function within(what: string, since: number, probe: () => Promise<boolean>): Promise<number> {
  for (;;) {
    if (await probe()) {
      const ms = Date.now() - since;
      console.log(`${what}: seen on the other node after ${ms} ms`);
      return ms;
    }
    if (Date.now() - since > DEADLINE_MS)
      throw new Error(`${what}: not seen on the other node within ${DEADLINE_MS} ms`);
    await new Promise((r) => setImmediate(r));
  }
}

describe('two relay nodes on one Redis: changes made on A are seen by B within milliseconds', () => {
  let fake: FakeAnthropic;
  let a: TestRelay;
  let b: TestRelay;

  beforeAll(async () => {
    fake = await startFakeAnthropic();
    const prefix = uniquePrefix();
    // CACHE_TTL is long on purpose: only the invalidation messages can make B notice in time.
    a = await startTestRelay({ prefix, env: { CACHE_TTL: '10m' } });
    b = await startTestRelay({ prefix, env: { CACHE_TTL: '10m' } });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await fake?.close();
  });

  /** What node `n` answers for this relay key (GET /v1/models: authentication only, no upstream). */
  const authOn = async (n: TestRelay, key: string) => {
    const res = await fetch(`${n.url}/api/v1/models`, { headers: { 'x-api-key': key } });
    const body = (await res.json()) as { error?: { message?: string } };
    return { status: res.status, message: body.error?.message };
  };

  it('a key created on A authenticates on B', async () => {
    const since = Date.now();
    const { key } = await a.admin.createKey({ name: 'made on A' });
    await within('key created', since, async () => (await authOn(b, key)).status === 200);
  });

  it('a key B has cached is refused by B once A disables it, and accepted again once A enables it', async () => {
    const { id, key } = await a.admin.createKey({ name: 'toggled on A' });
    expect((await authOn(b, key)).status).toBe(200); // B has it cached now

    let since = Date.now();
    expect((await a.admin.request('PATCH', `/admin/api-keys/${id}`, { active: false })).status).toBe(200);
    await within('key disabled', since, async () => {
      const r = await authOn(b, key);
      return r.status === 401 && r.message === 'This API key is disabled.';
    });

    since = Date.now();
    expect((await a.admin.request('PATCH', `/admin/api-keys/${id}`, { active: true })).status).toBe(200);
    await within('key enabled again', since, async () => (await authOn(b, key)).status === 200);
  });

  it('a key B has cached (and used for a request) is refused by B once A deletes it', async () => {
    const upstreamKey = `sk-ant-inval-${randomBytes(12).toString('hex')}`;
    await a.admin.createAccount({ name: 'for the delete test', apiKey: upstreamKey, baseUrl: fake.url, priority: 90 });
    const { id, key } = await a.admin.createKey({ name: 'deleted on A' });
    const res = await fetch(`${b.url}/api/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': key, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'claude-sonnet-5-5',
        max_tokens: 5,
        messages: [{ role: 'user', content: 'warm up' }],
      }),
    });
    expect(res.status).toBe(200);
    await res.arrayBuffer();

    const since = Date.now();
    expect((await a.admin.request('DELETE', `/admin/api-keys/${id}`)).status).toBe(204);
    await within('key deleted', since, async () => {
      const r = await authOn(b, key);
      return r.status === 401 && r.message === 'Invalid API key.';
    });
    // And it stays refused (no stale copy comes back).
    for (let i = 0; i < 5; i++) expect((await authOn(b, key)).status).toBe(401);
  });

  it('an account disabled on A is no longer scheduled by B', async () => {
    // Priority 1 wins every pick while it is usable; priority 2 is the fallback.
    const preferredKey = `sk-ant-preferred-${randomBytes(12).toString('hex')}`;
    const fallbackKey = `sk-ant-fallback-${randomBytes(12).toString('hex')}`;
    const preferred = await a.admin.createAccount({
      name: 'preferred',
      apiKey: preferredKey,
      baseUrl: fake.url,
      priority: 1,
    });
    await a.admin.createAccount({ name: 'fallback', apiKey: fallbackKey, baseUrl: fake.url, priority: 2 });
    const { key } = await a.admin.createKey({ name: 'scheduler probe' });
    const viaB = async () => {
      const before = fake.requests.length;
      const res = await fetch(`${b.url}/api/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': key, 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'claude-sonnet-5-5',
          max_tokens: 5,
          messages: [{ role: 'user', content: 'which account?' }],
        }),
      });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
      return fake.requests.slice(before).map((r) => r.apiKey);
    };
    // B schedules the preferred account, and has the account list cached.
    let seen: string[] = [];
    await within('new accounts', Date.now(), async () => {
      seen = await viaB();
      return seen[0] === preferredKey;
    });

    const since = Date.now();
    expect((await a.admin.request('PATCH', `/admin/accounts/${preferred.id}`, { active: false })).status).toBe(200);
    await within('account disabled', since, async () => (await viaB())[0] === fallbackKey);
    for (let i = 0; i < 5; i++) expect(await viaB()).toEqual([fallbackKey]);
  });
});
