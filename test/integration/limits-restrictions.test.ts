import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { manualClock } from '../../src/util/clock.js';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.js';
import { addAccount, ask, iso, OPUS, SONNET, type Answer, type AskOptions, type PoolAccount } from '../support/pool.js';
import { startTestRelay, type TestRelay } from '../support/relay.js';

/**
 * What a key may do at all: platforms, models, clients, and a lifetime that starts with its first
 * request. Refusals are 403 (401 for an expired key) in the Anthropic shape, book nothing and never
 * reach the upstream. And the admin API refuses bad values for every one of these fields.
 */

const DAY = 86_400_000;
const CLAUDE_CODE_UA = 'claude-cli/2.1.332 (external, cli)';

describe('key restrictions', () => {
  const clock = manualClock();
  let fake: FakeAnthropic;
  let relay: TestRelay;
  let account: PoolAccount;

  beforeAll(async () => {
    fake = await startFakeAnthropic();
    relay = await startTestRelay({ clock });
    account = await addAccount(relay.admin, fake, 'only');
  });
  afterAll(async () => {
    await relay?.close();
    await fake?.close();
  });
  beforeEach(() => fake.reset());

  /** A request that must be refused before reaching the upstream, and booked nowhere. */
  async function refused(key: { id: string; key: string }, status: number, opts: AskOptions = {}): Promise<Answer> {
    const res = await ask(relay.url, key.key, opts);
    expect(res.status, res.text).toBe(status);
    expect(res.json).toMatchObject({ type: 'error', error: { type: expect.any(String), message: expect.any(String) } });
    expect(fake.requests).toHaveLength(0);
    expect((await relay.admin.keyUsage(key.id)).total.requests).toBe(0);
    return res;
  }
  const served = async (key: { key: string }, opts: AskOptions = {}) => {
    const res = await ask(relay.url, key.key, opts);
    expect(res.status, res.text).toBe(200);
  };

  it('permissions: a gemini-only key gets 403 on the Anthropic Messages route', async () => {
    const key = await relay.admin.createKey({ permissions: ['gemini'] });
    const res = await refused(key, 403);
    expect(res.type).toBe('permission_error');
    expect(res.message).toContain('claude');
    expect(res.headers.get('x-should-retry')).toBe('false');
    await served(await relay.admin.createKey({ permissions: ['gemini', 'claude'] }));
  });

  it('modelAllow: a model outside the globs gets 403', async () => {
    const key = await relay.admin.createKey({ modelAllow: ['claude-sonnet-*'] });
    const res = await refused(key, 403, { model: OPUS });
    expect(res.type).toBe('permission_error');
    expect(res.message).toContain(OPUS);
    fake.reset();
    await served(key, { model: SONNET });
  });

  it('modelDeny: a model matching a glob gets 403, even when also allowed', async () => {
    const key = await relay.admin.createKey({ modelAllow: ['claude-*'], modelDeny: ['*opus*'] });
    await refused(key, 403, { model: OPUS });
    await refused(key, 403, { model: 'CLAUDE-OPUS-4-5' });
    await served(key, { model: SONNET });
  });

  it("allowedClients claude-code: a curl-like request is refused; Claude Code's user agent with its session header is served", async () => {
    const key = await relay.admin.createKey({ allowedClients: ['claude-code'] });
    const res = await refused(key, 403, { headers: { 'user-agent': 'curl/8.5.0' } });
    expect(res.message).toContain('claude-code');
    // The user agent alone is easy to fake and not enough.
    await refused(key, 403, { headers: { 'user-agent': CLAUDE_CODE_UA } });
    await served(key, { headers: { 'user-agent': CLAUDE_CODE_UA, 'x-claude-code-session-id': randomUUID() } });
    await served(key, {
      headers: { 'user-agent': CLAUDE_CODE_UA },
      body: {
        model: SONNET,
        max_tokens: 16,
        messages: [{ role: 'user', content: 'hi' }],
        metadata: {
          user_id: JSON.stringify({ device_id: 'd'.repeat(64), account_uuid: '', session_id: randomUUID() }),
        },
      },
    });
    expect(fake.requests.every((r) => r.apiKey === account.apiKey)).toBe(true);
  });

  it('expiryMode after-first-use: the key works for activationDays from its first request, then 401', async () => {
    const key = await relay.admin.createKey({ expiryMode: 'after-first-use', activationDays: 3 });
    // Unused keys do not age.
    clock.advance(30 * DAY);
    const firstUse = clock.now();
    await served(key);
    const view = await relay.admin.request<{ activatedAt: string; expiresAt: string }>(
      'GET',
      `/admin/api-keys/${key.id}`,
    );
    expect(view.body).toMatchObject({ activatedAt: iso(firstUse), expiresAt: iso(firstUse + 3 * DAY) });

    clock.advance(3 * DAY - 1_000);
    await served(key);
    clock.advance(1_000);
    fake.reset();
    const res = await ask(relay.url, key.key);
    expect(res.status).toBe(401);
    expect(res.type).toBe('authentication_error');
    expect(res.message).toContain('expired');
    expect(fake.requests).toHaveLength(0);
  });
});

describe('admin validation of the pool and limit fields', () => {
  let fake: FakeAnthropic;
  let relay: TestRelay;
  let account: PoolAccount;

  beforeAll(async () => {
    fake = await startFakeAnthropic();
    relay = await startTestRelay();
    account = await addAccount(relay.admin, fake, 'only');
  });
  afterAll(async () => {
    await relay?.close();
    await fake?.close();
  });

  const expectInvalid = (r: { status: number; body: unknown }, field: string) => {
    expect(r.status, JSON.stringify(r.body)).toBe(400);
    expect(r.body).toMatchObject({ error: { code: 'admin_invalid', message: expect.stringContaining(field) } });
  };

  it.each<[string, Record<string, unknown>]>([
    ['accountIds', { accountIds: ['a_0000000000000000'] }],
    ['accountIds', { accountIds: ['not-an-id'] }],
    ['groupIds', { groupIds: ['g_0000000000000000'] }],
    ['expiryMode', { expiryMode: 'sometimes' }],
    ['activationDays', { expiryMode: 'after-first-use' }],
    ['activationDays', { expiryMode: 'after-first-use', activationDays: 0 }],
    ['permissions', { permissions: ['claude', 'netscape'] }],
    ['permissions', { permissions: [] }],
    ['modelAllow', { modelAllow: [] }],
    ['allowedClients', { allowedClients: [] }],
    ['allowedClients', { allowedClients: ['curl'] }],
    ['modelAllow', { modelAllow: 'claude-*' }],
    ['poolFallback', { poolFallback: 'yes' }],
    ['concurrencyLimit', { concurrencyLimit: -1 }],
    ['concurrencyWaitSeconds', { concurrencyWaitSeconds: 1.5 }],
    ['rateWindowMinutes', { rateWindowMinutes: -5 }],
    ['rateLimitCost', { rateLimitCost: 'lots' }],
    ['dailyCostLimit', { dailyCostLimit: -1 }],
    ['totalCostLimit', { totalCostLimit: Number.MAX_VALUE }],
  ])('keys: bad %s → 400, nothing created', async (field, input) => {
    const before = (await relay.admin.request<{ items: unknown[] }>('GET', '/admin/api-keys')).body.items.length;
    expectInvalid(await relay.admin.request('POST', '/admin/api-keys', { name: 'bad', ...input }), field);
    expect((await relay.admin.request<{ items: unknown[] }>('GET', '/admin/api-keys')).body.items).toHaveLength(before);
  });

  it('allow lists: null (or absent) allows any; an empty list is refused, saying what to send instead', async () => {
    const open = await relay.admin.request<Record<string, unknown>>('POST', '/admin/api-keys', { name: 'open' });
    expect(open.body).toMatchObject({ permissions: null, modelAllow: null, allowedClients: null, modelDeny: [] });
    const { id, key } = await relay.admin.createKey({ permissions: ['gemini'] });
    expect((await ask(relay.url, key)).status).toBe(403);
    const refused = await relay.admin.request<{ error: { message: string } }>('PATCH', `/admin/api-keys/${id}`, {
      permissions: [],
    });
    expectInvalid(refused, 'permissions');
    expect(refused.body.error.message).toBe(
      'permissions: an empty list would allow no platform; send null (or leave it out) to allow any.',
    );
    // Nothing changed: still gemini only.
    expect((await ask(relay.url, key)).status).toBe(403);
    const lifted = await relay.admin.request('PATCH', `/admin/api-keys/${id}`, { permissions: null });
    expect(lifted.body).toMatchObject({ permissions: null });
    expect((await ask(relay.url, key)).status).toBe(200);
  });

  it('keys: a PATCH binding an unknown account or group is refused and changes nothing', async () => {
    const { id } = await relay.admin.createKey({ accountIds: [account.id], concurrencyLimit: 3 });
    expectInvalid(
      await relay.admin.request('PATCH', `/admin/api-keys/${id}`, {
        accountIds: [account.id, 'a_zzzzzzzzzzzzzzzz'],
        concurrencyLimit: 9,
      }),
      'accountIds',
    );
    expectInvalid(
      await relay.admin.request('PATCH', `/admin/api-keys/${id}`, { groupIds: ['g_0123456789abcdef'] }),
      'groupIds',
    );
    expect((await relay.admin.request('GET', `/admin/api-keys/${id}`)).body).toMatchObject({
      accountIds: [account.id],
      groupIds: [],
      concurrencyLimit: 3,
    });
  });

  it('keys: every pool and limit field is stored as given', async () => {
    const g = await relay.admin.request<{ id: string }>('POST', '/admin/groups', {
      name: 'g',
      platform: 'claude',
      accountIds: [account.id],
    });
    const input = {
      permissions: ['claude'],
      modelAllow: ['claude-*'],
      modelDeny: ['*opus*'],
      allowedClients: ['claude-code'],
      accountIds: [account.id],
      groupIds: [g.body.id],
      poolFallback: true,
      concurrencyLimit: 4,
      concurrencyWaitSeconds: 10,
      rateWindowMinutes: 60,
      rateLimitRequests: 100,
      rateLimitTokens: 100_000,
      rateLimitCost: 2.5,
      dailyCostLimit: 10,
      weeklyCostLimit: 50,
      weeklyCostFamily: 'opus',
      totalCostLimit: 500,
      expiryMode: 'after-first-use',
      activationDays: 30,
    };
    const { id } = await relay.admin.createKey(input);
    expect((await relay.admin.request('GET', `/admin/api-keys/${id}`)).body).toMatchObject(input);
    const limits = await relay.admin.request('GET', `/admin/api-keys/${id}/limits`);
    expect(limits.status).toBe(200);
    expect(limits.body).toMatchObject({
      concurrency: { inFlight: 0, limit: 4 },
      window: { minutes: 60, requests: 0 },
      daily: { cost: 0, limit: 10 },
      weekly: { limit: 50, family: 'opus' },
      total: { limit: 500 },
    });
  });

  it.each<[string, Record<string, unknown>]>([
    ['priority', { priority: 0 }],
    ['priority', { priority: 101 }],
    ['weight', { weight: 0 }],
    ['maxConcurrency', { maxConcurrency: -1 }],
    ['models', { models: 'claude-*' }],
    ['modelMapping', { modelMapping: { 'claude-haiku-4-5': 7 } }],
    ['subscriptionExpiresAt', { subscriptionExpiresAt: 'next summer' }],
    ['backup', { backup: 'no' }],
    ['shared', { shared: 1 }],
  ])('accounts: bad %s → 400 on create and on update', async (field, input) => {
    expectInvalid(
      await relay.admin.request('POST', '/admin/accounts', {
        platform: 'claude',
        type: 'api-key',
        name: 'bad',
        apiKey: 'sk-ant-bad-0000000000000000',
        baseUrl: fake.url,
        ...input,
      }),
      field,
    );
    expectInvalid(await relay.admin.request('PATCH', `/admin/accounts/${account.id}`, input), field);
  });

  it.each<[string, Record<string, unknown>]>([
    ['strategy', { strategy: 'random' }],
    ['platform', { platform: 'netscape' }],
    ['accountIds', { accountIds: ['a_0000000000000000'] }],
    ['accountIds', { accountIds: 'a_0000000000000000' }],
  ])('groups: bad %s → 400', async (field, input) => {
    expectInvalid(
      await relay.admin.request('POST', '/admin/groups', { name: 'bad', platform: 'claude', ...input }),
      field,
    );
  });

  it('unknown ids: limits, health and reset answer 404', async () => {
    for (const path of [
      '/admin/api-keys/k_0000000000000000/limits',
      '/admin/accounts/a_0000000000000000/health',
      '/admin/groups/g_0000000000000000',
    ]) {
      expect((await relay.admin.request('GET', path)).status, path).toBe(404);
    }
    expect((await relay.admin.request('POST', '/admin/accounts/a_0000000000000000/reset')).status).toBe(404);
  });
});
