import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createSecrets } from '../../src/util/secrets.js';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.js';
import {
  ADMIN_PASSWORD,
  ADMIN_USER,
  AdminClient,
  startTestRelay,
  TEST_ENCRYPTION_KEY,
  type TestRelay,
} from '../support/relay.js';
import { waitFor } from '../support/wait.js';

const MODEL = 'claude-sonnet-5-5';
const FIGURE_FIELDS = [
  'requests',
  'errors',
  'inputTokens',
  'outputTokens',
  'cacheCreateTokens',
  'cacheCreate5mTokens',
  'cacheCreate1hTokens',
].concat(['cacheReadTokens', 'webSearchRequests', 'cost', 'costPico']);

type Json = Record<string, unknown>;
type AdminError = { error: { code: string; message: string }; requestId: string };

const upstreamKey = () => `sk-ant-api03-${randomBytes(16).toString('hex')}`;

/** A relay request through the relay's Anthropic surface, with a relay key. */
async function ask(relay: TestRelay, key: string, model = MODEL): Promise<number> {
  const res = await fetch(`${relay.url}/api/v1/messages`, {
    method: 'POST',
    headers: { 'x-api-key': key, 'content-type': 'application/json' },
    body: JSON.stringify({ model, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }),
  });
  await res.arrayBuffer();
  return res.status;
}

const authStatus = async (relay: TestRelay, key: string) =>
  (await fetch(`${relay.url}/api/v1/models`, { headers: { 'x-api-key': key } })).status;

function expectAdminError(r: { status: number; body: unknown }, status: number, code: string): void {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.body).toMatchObject({ error: { code, message: expect.any(String) }, requestId: expect.any(String) });
}

describe('admin API', () => {
  let fake: FakeAnthropic;
  let relay: TestRelay;
  let admin: AdminClient;

  beforeAll(async () => {
    fake = await startFakeAnthropic();
    relay = await startTestRelay();
    admin = relay.admin;
  });
  afterAll(async () => {
    await relay?.close();
    await fake?.close();
  });

  describe('login', () => {
    it('answers 200 with a token and its expiry; wrong credentials 401; a malformed body 400', async () => {
      const ok = await admin.request<{ token: string; expiresAt: string }>(
        'POST',
        '/admin/login',
        { username: ADMIN_USER, password: ADMIN_PASSWORD },
        '',
      );
      expect(ok.status).toBe(200);
      expect(ok.body.token).toMatch(/^crsa_[\w-]{20,}$/);
      const expires = Date.parse(ok.body.expiresAt);
      expect(expires - Date.now()).toBeGreaterThan(23 * 3_600_000);
      expect(expires - Date.now()).toBeLessThanOrEqual(24 * 3_600_000);
      expect((await admin.request('GET', '/admin/api-keys', undefined, ok.body.token)).status).toBe(200);

      expectAdminError(
        await admin.request('POST', '/admin/login', { username: ADMIN_USER, password: 'wrong-password' }, ''),
        401,
        'admin_bad_credentials',
      );
      expectAdminError(
        await admin.request('POST', '/admin/login', { username: 'root', password: ADMIN_PASSWORD }, ''),
        401,
        'admin_bad_credentials',
      );
      expectAdminError(await admin.request('POST', '/admin/login', { username: ADMIN_USER }, ''), 400, 'admin_invalid');
      expectAdminError(await admin.request('POST', '/admin/login', '{not json', ''), 400, 'admin_invalid');
    });

    it('behind a trusted proxy: throttled by the address the proxy appended, never by what the client wrote', async () => {
      const own = await startTestRelay({ env: { TRUST_PROXY: 'true' } }); // the test client is 127.0.0.1, a trusted proxy
      const login = (xff: string, password: string) =>
        fetch(`${own.url}/admin/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-forwarded-for': xff },
          body: JSON.stringify({ username: ADMIN_USER, password }),
        });
      try {
        // An attacker at 203.0.113.7 rotates forged entries; nginx appends the real address last.
        const statuses: number[] = [];
        for (let i = 0; i < 7; i++) statuses.push((await login(`198.51.100.${i}, 203.0.113.7`, `wrong-${i}`)).status);
        expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
        // Forging a victim's address on the left does not lock the victim out.
        for (let i = 0; i < 6; i++) await login('203.0.113.99, 203.0.113.8', `wrong-${i}`);
        expect((await login('203.0.113.99', ADMIN_PASSWORD)).status).toBe(200);
        expect((await login('203.0.113.8', ADMIN_PASSWORD)).status).toBe(429);
      } finally {
        await own.close();
      }
    });

    it('POST /admin/password guesses are throttled like logins', async () => {
      const own = await startTestRelay();
      try {
        const change = (currentPassword: string) =>
          own.admin.request('POST', '/admin/password', { currentPassword, newPassword: 'a-new-password-12' });
        for (let i = 0; i < 5; i++) expectAdminError(await change(`wrong-${i}`), 401, 'admin_bad_credentials');
        const throttled = await change(ADMIN_PASSWORD);
        expectAdminError(throttled, 429, 'admin_login_throttled');
        expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0);
        // Nothing changed (a change would have ended this session), and logins from this address are
        // refused too: one counter per address for every password guess.
        expect((await own.admin.request('GET', '/admin/api-keys')).status).toBe(200);
        expectAdminError(
          await own.admin.request('POST', '/admin/login', { username: ADMIN_USER, password: ADMIN_PASSWORD }, ''),
          429,
          'admin_login_throttled',
        );
      } finally {
        await own.close();
      }
    });

    it('after 5 failures from one address answers 429 with retry-after, even to the right password', async () => {
      const own = await startTestRelay(); // its own deployment: the throttle is per address
      try {
        for (let i = 0; i < 5; i++) {
          expectAdminError(
            await own.admin.request('POST', '/admin/login', { username: ADMIN_USER, password: `wrong-${i}` }, ''),
            401,
            'admin_bad_credentials',
          );
        }
        const throttled = await own.admin.request(
          'POST',
          '/admin/login',
          { username: ADMIN_USER, password: ADMIN_PASSWORD },
          '',
        );
        expectAdminError(throttled, 429, 'admin_login_throttled');
        const retryAfter = Number(throttled.headers.get('retry-after'));
        expect(Number.isInteger(retryAfter)).toBe(true);
        expect(retryAfter).toBeGreaterThan(0);
        expect(retryAfter).toBeLessThanOrEqual(15 * 60);
        // The session it had before still works; only logins are refused.
        expect((await own.admin.request('GET', '/admin/api-keys')).status).toBe(200);
      } finally {
        await own.close();
      }
    });
  });

  it('the login throttle also holds against parallel guesses: at most 5 wrong passwords are ever checked', async () => {
    const own = await startTestRelay();
    try {
      const statuses = await Promise.all(
        Array.from(
          { length: 20 },
          async (_, i) =>
            (await own.admin.request('POST', '/admin/login', { username: ADMIN_USER, password: `guess-${i}` }, ''))
              .status,
        ),
      );
      const checked = statuses.filter((s) => s === 401).length;
      expect(statuses.filter((s) => s !== 401 && s !== 429)).toEqual([]);
      expect(checked, `statuses: ${statuses.join(' ')}`).toBeLessThanOrEqual(5);
    } finally {
      await own.close();
    }
  });

  it('every /admin route refuses a missing, bogus or ended token with 401 in the admin shape, and does nothing', async () => {
    const key = await admin.createKey({ name: 'guarded' });
    const account = await admin.createAccount({ apiKey: upstreamKey(), baseUrl: fake.url });
    const second = new AdminClient(relay.url);
    await second.login();
    const ended = second.token;
    expect((await second.request('POST', '/admin/logout')).status).toBe(204);

    const routes: [string, string, Json?][] = [
      ['POST', '/admin/logout'],
      ['POST', '/admin/password', { currentPassword: ADMIN_PASSWORD, newPassword: 'another-password-123' }],
      ['GET', '/admin/api-keys'],
      ['POST', '/admin/api-keys', { name: 'sneaky' }],
      ['GET', `/admin/api-keys/${key.id}`],
      ['PATCH', `/admin/api-keys/${key.id}`, { active: false }],
      ['DELETE', `/admin/api-keys/${key.id}`],
      ['GET', `/admin/api-keys/${key.id}/usage`],
      ['GET', `/admin/api-keys/${key.id}/records`],
      ['GET', '/admin/accounts'],
      ['POST', '/admin/accounts', { platform: 'claude', type: 'api-key', name: 'sneaky', apiKey: upstreamKey() }],
      ['GET', `/admin/accounts/${account.id}`],
      ['PATCH', `/admin/accounts/${account.id}`, { active: false }],
      ['DELETE', `/admin/accounts/${account.id}`],
      ['GET', `/admin/accounts/${account.id}/usage`],
    ];
    const tokens = ['', `crsa_${randomBytes(32).toString('hex')}`, 'not-a-token', ended];
    for (const [method, path, body] of routes) {
      for (const token of tokens) {
        const r = await admin.request<AdminError>(
          method,
          path,
          body ?? (method === 'POST' || method === 'PATCH' ? {} : undefined),
          token,
        );
        expect(r.status, `${method} ${path} with token ${JSON.stringify(token.slice(0, 12))}`).toBe(401);
        expect(r.body.error.code).toBe('admin_unauthorized');
      }
    }
    // Nothing happened: the key and account are intact and active, nothing was created.
    expect((await admin.request<Json>('GET', `/admin/api-keys/${key.id}`)).body).toMatchObject({ active: true });
    expect((await admin.request<Json>('GET', `/admin/accounts/${account.id}`)).body).toMatchObject({ active: true });
    const names = (await admin.request<{ items: { name: string }[] }>('GET', '/admin/api-keys')).body.items.map(
      (k) => k.name,
    );
    expect(names).not.toContain('sneaky');
    await admin.login(); // the password was not changed
  });

  describe('API keys', () => {
    it('create returns the plaintext key once; list and get never show it or its hash', async () => {
      const created = await admin.request<Json & { id: string; key: string; keyPreview: string }>(
        'POST',
        '/admin/api-keys',
        { name: 'alpha', description: 'for the docs' },
      );
      expect(created.status).toBe(201);
      const { id, key } = created.body;
      expect(key).toMatch(/^cr_[0-9a-f]{64}$/);
      expect(id).toMatch(/^k_[0-9a-z]{16}$/);
      expect(created.body).toMatchObject({ name: 'alpha', description: 'for the docs', active: true, expiresAt: null });
      expect(created.body.keyPreview.startsWith(key.slice(0, 7))).toBe(true);
      expect(created.body.keyPreview.endsWith(key.slice(-4))).toBe(true);
      expect(await authStatus(relay, key)).toBe(200);

      const hash = createSecrets(TEST_ENCRYPTION_KEY).hashApiKey(key);
      const list = await admin.request<{ items: Json[] }>('GET', '/admin/api-keys');
      const got = await admin.request<Json>('GET', `/admin/api-keys/${id}`);
      expect(list.body.items.some((k) => k.id === id)).toBe(true);
      expect(got.body).toMatchObject({ id, name: 'alpha' });
      for (const text of [JSON.stringify(list.body), JSON.stringify(got.body)]) {
        expect(text).not.toContain(key.slice(3));
        expect(text).not.toContain(hash);
      }
      expect(got.body).not.toHaveProperty('key');
      expect(got.body).not.toHaveProperty('hash');
    });

    it('POST and PATCH validate each field and refuse unknown ones with 400', async () => {
      expectAdminError(await admin.request('POST', '/admin/api-keys', {}), 400, 'admin_invalid');
      expectAdminError(
        await admin.request('POST', '/admin/api-keys', { name: 'x', colour: 'red' }),
        400,
        'admin_invalid',
      );
      const { id } = await admin.createKey({ name: 'beta' });
      const before = (await admin.request<Json>('GET', `/admin/api-keys/${id}`)).body;
      const bad: [Json, RegExp][] = [
        [{ bogus: 1 }, /bogus/],
        [{ name: '' }, /^name/],
        [{ name: 5 }, /^name/],
        [{ name: 'y'.repeat(101) }, /^name/],
        [{ active: 'no' }, /^active/],
        [{ expiresAt: 'soon' }, /^expiresAt/],
        [{ description: 'z'.repeat(501) }, /^description/],
      ];
      for (const [patch, message] of bad) {
        const r = await admin.request<AdminError>('PATCH', `/admin/api-keys/${id}`, patch);
        expectAdminError(r, 400, 'admin_invalid');
        expect(r.body.error.message, JSON.stringify(patch)).toMatch(message);
      }
      expectAdminError(await admin.request('PATCH', `/admin/api-keys/${id}`, '[1]'), 400, 'admin_invalid');
      expect((await admin.request<Json>('GET', `/admin/api-keys/${id}`)).body).toEqual(before);

      const when = '2031-01-02T03:04:05.000Z';
      const ok = await admin.request<Json>('PATCH', `/admin/api-keys/${id}`, {
        name: 'beta renamed',
        description: 'now described',
        expiresAt: when,
      });
      expect(ok.status).toBe(200);
      expect(ok.body).toMatchObject({
        id,
        name: 'beta renamed',
        description: 'now described',
        expiresAt: when,
        active: true,
      });
      expect((await admin.request<Json>('PATCH', `/admin/api-keys/${id}`, { expiresAt: null })).body).toMatchObject({
        expiresAt: null,
      });
      expectAdminError(
        await admin.request('PATCH', '/admin/api-keys/k_0000000000000000', { name: 'ghost' }),
        404,
        'admin_not_found',
      );
      expectAdminError(
        await admin.request('PATCH', '/admin/api-keys/not-an-id', { name: 'ghost' }),
        404,
        'admin_not_found',
      );
    });

    it('DELETE removes the key: it stops authenticating at once and is gone from get and list', async () => {
      const { id, key } = await admin.createKey({ name: 'doomed' });
      expect(await authStatus(relay, key)).toBe(200); // cached now
      expect((await admin.request('DELETE', `/admin/api-keys/${id}`)).status).toBe(204);
      expect(await authStatus(relay, key)).toBe(401);
      expectAdminError(await admin.request('GET', `/admin/api-keys/${id}`), 404, 'admin_not_found');
      expect(
        (await admin.request<{ items: Json[] }>('GET', '/admin/api-keys')).body.items.some((k) => k.id === id),
      ).toBe(false);
      expectAdminError(await admin.request('DELETE', `/admin/api-keys/${id}`), 404, 'admin_not_found');
    });
  });

  describe('accounts', () => {
    it('the upstream key is never echoed, only a hint of its last characters', async () => {
      const secret = `sk-ant-api03-${randomBytes(20).toString('hex')}wxyz`;
      const created = await admin.request<Json & { id: string }>('POST', '/admin/accounts', {
        platform: 'claude',
        type: 'api-key',
        name: 'primary',
        apiKey: secret,
        baseUrl: `${fake.url}/`,
        priority: 10,
      });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({
        platform: 'claude',
        type: 'api-key',
        name: 'primary',
        priority: 10,
        active: true,
        schedulable: true,
        baseUrl: fake.url,
      });
      expect(created.body.credentialHints).toEqual({ apiKey: '…wxyz' });
      const got = await admin.request<Json>('GET', `/admin/accounts/${created.body.id}`);
      const list = await admin.request<{ items: Json[] }>('GET', '/admin/accounts');
      for (const text of [JSON.stringify(created.body), JSON.stringify(got.body), JSON.stringify(list.body)]) {
        expect(text).not.toContain(secret.slice(0, 30));
        expect(text).not.toContain(secret.slice(-20));
      }
      expect(got.body).not.toHaveProperty('apiKey');
      expect(got.body).not.toHaveProperty('credentials');
    });

    it('invalid platform, type, base URL or key → 400, and nothing is created', async () => {
      const count = async () => (await admin.request<{ items: Json[] }>('GET', '/admin/accounts')).body.items.length;
      const before = await count();
      const base = { platform: 'claude', type: 'api-key', name: 'bad', apiKey: upstreamKey() };
      const bad: [Json, RegExp][] = [
        [{ ...base, platform: 'nope' }, /^platform/],
        [{ ...base, platform: 7 }, /^platform/],
        [{ ...base, type: 'magic' }, /^type/],
        [{ ...base, baseUrl: 'ftp://example.com' }, /^baseUrl/],
        [{ ...base, baseUrl: 'not a url' }, /^baseUrl/],
        [{ ...base, apiKey: 'short' }, /^apiKey/],
        [{ ...base, apiKey: undefined }, /^apiKey/],
        [{ ...base, priority: 0 }, /^priority/],
        [{ ...base, priority: 1.5 }, /^priority/],
        [{ ...base, region: 'eu' }, /region/],
      ];
      for (const [body, message] of bad) {
        const r = await admin.request<AdminError>('POST', '/admin/accounts', body);
        expectAdminError(r, 400, 'admin_invalid');
        expect(r.body.error.message, JSON.stringify(body)).toMatch(message);
      }
      expect(await count()).toBe(before);
    });

    it('PATCH apiKey rotates the credential the upstream sees; platform and type cannot be patched', async () => {
      const own = await startTestRelay();
      try {
        const first = upstreamKey();
        const second = upstreamKey();
        const { id } = await own.admin.createAccount({ apiKey: first, baseUrl: fake.url });
        const { key } = await own.admin.createKey();
        expect(await ask(own, key)).toBe(200);
        expect(fake.requests.at(-1)?.apiKey).toBe(first);

        const patched = await own.admin.request<Json>('PATCH', `/admin/accounts/${id}`, { apiKey: second });
        expect(patched.status).toBe(200);
        expect(patched.body.credentialHints).toEqual({ apiKey: `…${second.slice(-4)}` });
        expect(JSON.stringify(patched.body)).not.toContain(second.slice(-12));
        expect(await ask(own, key)).toBe(200);
        expect(fake.requests.at(-1)?.apiKey).toBe(second);
        expect(fake.requests.some((r) => r.apiKey === second && r.headers['x-api-key'] === second)).toBe(true);

        expectAdminError(
          await own.admin.request('PATCH', `/admin/accounts/${id}`, { platform: 'gemini' }),
          400,
          'admin_invalid',
        );
        expectAdminError(
          await own.admin.request('PATCH', `/admin/accounts/${id}`, { type: 'oauth' }),
          400,
          'admin_invalid',
        );
        expectAdminError(
          await own.admin.request('PATCH', `/admin/accounts/${id}`, { baseUrl: 'gopher://x' }),
          400,
          'admin_invalid',
        );
        expectAdminError(
          await own.admin.request('PATCH', '/admin/accounts/a_0000000000000000', { name: 'ghost' }),
          404,
          'admin_not_found',
        );
      } finally {
        await own.close();
      }
    });

    it('a rotated credential is trusted again: PATCH apiKey clears the unauthorized mark and the breaker, and says so', async () => {
      const own = await startTestRelay({
        env: { BREAKER_VOLUME: '2', BREAKER_ERROR_PERCENT: '1', COOLDOWN_SERVER_ERROR: '100ms' },
      });
      try {
        const revoked = upstreamKey();
        const { id } = await own.admin.createAccount({ apiKey: revoked, baseUrl: fake.url });
        const { key } = await own.admin.createKey();
        fake.script(revoked, { kind: 'error', status: 401, message: 'invalid x-api-key' });
        expect(await ask(own, key)).toBe(502);
        const marked = await own.admin.request<Json>('GET', `/admin/accounts/${id}`);
        expect(marked.body.health).toMatchObject({ routable: false, blockers: [{ reason: 'unauthorized' }] });
        expect(await ask(own, key)).toBe(503);

        const fresh = upstreamKey();
        const patched = await own.admin.request<Json>('PATCH', `/admin/accounts/${id}`, { apiKey: fresh });
        expect(patched.status).toBe(200);
        expect(patched.body.health).toMatchObject({ routable: true, blockers: [] });
        expect(await ask(own, key)).toBe(200);
        expect(fake.requests.at(-1)?.apiKey).toBe(fresh);

        // The breaker, opened by the new key's 500 (past the volume of 2 calls, any failure opens it),
        // closes when the key is rotated again.
        fake.script(fresh, { kind: 'error', status: 500 });
        expect(await ask(own, key)).toBe(500);
        // The open breaker is shared through Redis after the answer went out: wait for it to land.
        await waitFor(
          async () => {
            const broken = await own.admin.request<Json>('GET', `/admin/accounts/${id}?model=${MODEL}`);
            return JSON.stringify(broken.body.health).includes('breaker_open');
          },
          { what: 'the open breaker in the account health' },
        );
        const third = upstreamKey();
        const rotated = await own.admin.request<Json>('PATCH', `/admin/accounts/${id}`, { apiKey: third });
        expect(JSON.stringify(rotated.body.health)).not.toContain('breaker_open');
        await new Promise((r) => setTimeout(r, 150)); // cooldowns stay: they belong to the upstream account
        expect(await ask(own, key)).toBe(200);
        expect(fake.requests.at(-1)?.apiKey).toBe(third);

        // A setting that is not a credential does not clear the mark.
        fake.script(third, { kind: 'error', status: 403 });
        expect(await ask(own, key)).toBe(502);
        const renamed = await own.admin.request<Json>('PATCH', `/admin/accounts/${id}`, { name: 'renamed' });
        expect(renamed.body.health).toMatchObject({ routable: false, blockers: [{ reason: 'unauthorized' }] });
      } finally {
        await own.close();
      }
    });

    it('DELETE removes an account: 204, then 404, and requests no longer reach it', async () => {
      const own = await startTestRelay();
      try {
        const { id } = await own.admin.createAccount({ apiKey: upstreamKey(), baseUrl: fake.url });
        const { key } = await own.admin.createKey();
        expect(await ask(own, key)).toBe(200);
        expect((await own.admin.request('DELETE', `/admin/accounts/${id}`)).status).toBe(204);
        expectAdminError(await own.admin.request('GET', `/admin/accounts/${id}`), 404, 'admin_not_found');
        expectAdminError(await own.admin.request('DELETE', `/admin/accounts/${id}`), 404, 'admin_not_found');
        expect(await ask(own, key)).toBe(503);
      } finally {
        await own.close();
      }
    });
  });

  describe('usage', () => {
    it('key and account usage: {total, daily, models} with the documented fields; days is validated', async () => {
      const own = await startTestRelay();
      try {
        const account = await own.admin.createAccount({ apiKey: upstreamKey(), baseUrl: fake.url });
        const { id, key } = await own.admin.createKey();
        expect(await ask(own, key)).toBe(200);
        const today = new Date().toISOString().slice(0, 10);
        for (const path of [`/admin/api-keys/${id}/usage?days=3`, `/admin/accounts/${account.id}/usage?days=3`]) {
          const r = await own.admin.request<{ total: Json; daily: Json[]; models: Json[] }>('GET', path);
          expect(r.status).toBe(200);
          expect(Object.keys(r.body).sort()).toEqual(['daily', 'models', 'total']);
          for (const f of FIGURE_FIELDS) expect(r.body.total, f).toHaveProperty(f);
          expect(r.body.total).toMatchObject({ requests: 1, inputTokens: 25, outputTokens: 12, costPico: '170000000' });
          expect(r.body.total.cost).toBeCloseTo(0.00017, 12);
          expect(r.body.daily.map((d) => d.date)).toHaveLength(3);
          const dates = r.body.daily.map((d) => String(d.date));
          for (const d of dates) expect(d).toMatch(/^\d{4}-\d{2}-\d{2}$/);
          expect([...dates].sort()).toEqual(dates);
          expect(dates.at(-1)).toBe(today);
          expect(r.body.daily.at(-1)).toMatchObject({ date: today, requests: 1 });
          expect(r.body.models).toEqual([expect.objectContaining({ model: MODEL, requests: 1, inputTokens: 25 })]);
        }
        expect(
          (await own.admin.request<{ daily: Json[] }>('GET', `/admin/api-keys/${id}/usage`)).body.daily,
        ).toHaveLength(30);
        for (const days of ['0', '401', 'abc', '1.5']) {
          expectAdminError(
            await own.admin.request('GET', `/admin/api-keys/${id}/usage?days=${days}`),
            400,
            'admin_invalid',
          );
        }
        expectAdminError(
          await own.admin.request('GET', '/admin/api-keys/k_0000000000000000/usage'),
          404,
          'admin_not_found',
        );
        expectAdminError(
          await own.admin.request('GET', '/admin/accounts/a_0000000000000000/usage'),
          404,
          'admin_not_found',
        );
      } finally {
        await own.close();
      }
    });

    it('records: newest first, one per request, limit respected and validated', async () => {
      const own = await startTestRelay();
      try {
        const account = await own.admin.createAccount({ apiKey: upstreamKey(), baseUrl: fake.url });
        const { id, key } = await own.admin.createKey();
        for (const model of ['claude-sonnet-5-5', 'claude-opus-5-5', 'claude-haiku-5-5'])
          expect(await ask(own, key, model)).toBe(200);
        const r = await own.admin.request<{ items: Json[] }>('GET', `/admin/api-keys/${id}/records?limit=2`);
        expect(r.status).toBe(200);
        expect(r.body.items.map((x) => x.model)).toEqual(['claude-haiku-5-5', 'claude-opus-5-5']);
        expect(r.body.items[0]).toMatchObject({
          requestId: expect.stringMatching(/^req_/),
          keyId: id,
          accountId: account.id,
          platform: 'claude',
          endpoint: expect.any(String),
          stream: false,
          status: 200,
          outcome: 'ok',
          usage: expect.objectContaining({ inputTokens: 25, outputTokens: 12 }),
          costPico: expect.stringMatching(/^\d+$/),
          cost: expect.any(Number),
          startedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
          startedAtMs: expect.any(Number),
          finishedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
          durationMs: expect.any(Number),
        });
        const first = r.body.items[0] as { startedAt: string; startedAtMs: number; cost: number; costPico: string };
        expect(Date.parse(first.startedAt)).toBe(first.startedAtMs);
        expect(first.cost).toBeCloseTo(Number(first.costPico) / 1e12, 12);
        expect(
          (await own.admin.request<{ items: Json[] }>('GET', `/admin/api-keys/${id}/records`)).body.items,
        ).toHaveLength(3);
        for (const limit of ['0', '1001', 'x']) {
          expectAdminError(
            await own.admin.request('GET', `/admin/api-keys/${id}/records?limit=${limit}`),
            400,
            'admin_invalid',
          );
        }
      } finally {
        await own.close();
      }
    });
  });

  it('POST /admin/password changes the password and ends every open session', async () => {
    const own = await startTestRelay();
    try {
      const other = new AdminClient(own.url);
      await other.login();
      expectAdminError(
        await own.admin.request('POST', '/admin/password', {
          currentPassword: 'not-it',
          newPassword: 'a-new-password-42',
        }),
        401,
        'admin_bad_credentials',
      );
      expectAdminError(
        await own.admin.request('POST', '/admin/password', { currentPassword: ADMIN_PASSWORD, newPassword: 'short' }),
        400,
        'admin_invalid',
      );
      expect((await own.admin.request('GET', '/admin/api-keys')).status).toBe(200); // unchanged so far

      const changed = await own.admin.request('POST', '/admin/password', {
        currentPassword: ADMIN_PASSWORD,
        newPassword: 'a-new-password-42',
      });
      expect(changed.status).toBe(204);
      for (const client of [own.admin, other])
        expectAdminError(await client.request('GET', '/admin/api-keys'), 401, 'admin_unauthorized');
      expectAdminError(
        await own.admin.request('POST', '/admin/login', { username: ADMIN_USER, password: ADMIN_PASSWORD }, ''),
        401,
        'admin_bad_credentials',
      );
      await own.admin.login(ADMIN_USER, 'a-new-password-42');
      expect((await own.admin.request('GET', '/admin/api-keys')).status).toBe(200);
    } finally {
      await own.close();
    }
  });

  it('GET /health: status ok, Redis up with its latency and mode', async () => {
    const res = await fetch(`${relay.url}/health`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; redis: { status: string; latencyMs: number; mode: string } };
    expect(body.status).toBe('ok');
    expect(body.redis.status).toBe('up');
    expect(body.redis.latencyMs).toBeGreaterThanOrEqual(0);
    expect(body.redis.latencyMs).toBeLessThan(1_000);
    expect(body.redis.mode).toBe(inject('redisTarget').kind === 'cluster' ? 'cluster' : 'standalone');
  });

  it('GET /health/ready turns 503 once the node drains while /health/live stays 200', async () => {
    const own = await startTestRelay();
    try {
      const get = async (path: string) => {
        const res = await fetch(own.url + path);
        return { status: res.status, body: (await res.json()) as { status: string } };
      };
      expect(await get('/health/ready')).toEqual({ status: 200, body: { status: 'ready' } });
      expect(await get('/health/live')).toEqual({ status: 200, body: { status: 'ok' } });
      own.instance.app.startDraining();
      expect(await get('/health/ready')).toEqual({ status: 503, body: { status: 'draining' } });
      expect(await get('/health/live')).toEqual({ status: 200, body: { status: 'ok' } });
    } finally {
      await own.close();
    }
  });
});
