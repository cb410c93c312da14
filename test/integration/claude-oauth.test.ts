import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AccountId } from '../../src/ids.js';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.js';
import { startFakeOAuthServer, type FakeOAuthServer } from '../fakes/oauth-server.js';
import { CLAUDE_TOKEN_FIELDS, claudeOAuthEnv, importOAuthAccount } from '../support/claude-oauth.js';
import { ask, SONNET } from '../support/pool.js';
import { startTestRelay, storedCredentials, type TestRelay } from '../support/relay.js';

/**
 * Claude OAuth accounts (Pro/Max): created through the PKCE flow driven from the admin API against
 * a fake authorization server, or imported as a token pair; then used for inference with the
 * bearer token and the OAuth beta. Secrets never come back out of the admin API.
 */

const CLIENT_ID = '9d1c250a-e61b-44d9-88ed-5944d1962f5e';
const REDIRECT = 'https://platform.claude.com/oauth/code/callback';

type AdminError = { error: { code: string; message: string } };

describe('Claude OAuth accounts', () => {
  let oauth: FakeOAuthServer;
  let fake: FakeAnthropic;
  let relay: TestRelay;
  let relayKey: string;
  let keyId: string;

  beforeAll(async () => {
    oauth = await startFakeOAuthServer({
      clientId: CLIENT_ID,
      accessPrefix: 'sk-ant-oat01-',
      refreshPrefix: 'sk-ant-ort01-',
      responseFields: CLAUDE_TOKEN_FIELDS,
    });
    // The upstream accepts exactly the access tokens the authorization server considers live.
    fake = await startFakeAnthropic({ authorize: (token) => oauth.isValidAccessToken(token) });
    relay = await startTestRelay({ env: claudeOAuthEnv(oauth) });
    ({ key: relayKey, id: keyId } = await relay.admin.createKey({ name: 'oauth user' }));
  });

  afterEach(async () => {
    fake.reset();
    // Each test starts with no accounts, so the relay's pick is the account the test made.
    await relay.admin.deleteAllAccounts();
  });

  afterAll(async () => {
    await relay?.close();
    await fake?.close();
    await oauth?.close();
  });

  /** Opens the authorization URL as the signed-in user would; returns where the server sends the browser. */
  async function signIn(authorizationUrl: string): Promise<URL> {
    const res = await fetch(authorizationUrl, { redirect: 'manual' });
    expect(res.status).toBe(302);
    return new URL(res.headers.get('location') ?? '');
  }

  async function start(): Promise<{ sessionId: string; authorizationUrl: string }> {
    const res = await relay.admin.request<{ sessionId: string; authorizationUrl: string; expiresAt: string }>(
      'POST',
      '/admin/oauth/claude/start',
      {},
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body;
  }

  it('runs the PKCE flow: an authorization URL with state and an S256 challenge, the pasted code#state exchanged for an account', async () => {
    const { sessionId, authorizationUrl } = await start();
    const url = new URL(authorizationUrl);
    expect(url.origin + url.pathname).toBe(oauth.authorizeUrl);
    const q = Object.fromEntries(url.searchParams);
    expect(q).toMatchObject({
      code: 'true',
      client_id: CLIENT_ID,
      response_type: 'code',
      redirect_uri: REDIRECT,
      code_challenge_method: 'S256',
    });
    expect(q.scope?.split(' ')).toEqual([
      'org:create_api_key',
      'user:profile',
      'user:inference',
      'user:sessions:claude_code',
      'user:mcp_servers',
      'user:file_upload',
    ]);
    expect(q.code_challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.state?.length).toBeGreaterThanOrEqual(32);

    const callback = await signIn(authorizationUrl);
    const code = callback.searchParams.get('code') ?? '';
    expect(callback.searchParams.get('state')).toBe(q.state);

    // Claude's callback page shows `code#state`; that is what the admin pastes.
    const res = await relay.admin.request<Record<string, unknown>>('POST', '/admin/oauth/claude/exchange', {
      sessionId,
      code: `${code}#${q.state}`,
      priority: 10,
      baseUrl: fake.url,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({
      platform: 'claude',
      type: 'oauth',
      name: 'max.user@example.com',
      priority: 10,
      baseUrl: fake.url,
    });

    // The token endpoint got the verifier whose S256 is the challenge, and Claude's exchange fields.
    const exchange = oauth.requests.find((r) => r.grant === 'authorization_code' && r.status === 200);
    expect(exchange?.contentType).toContain('application/json');
    expect(exchange?.body).toMatchObject({ code, client_id: CLIENT_ID, redirect_uri: REDIRECT, state: q.state });
    expect(
      createHash('sha256')
        .update(exchange?.body.code_verifier ?? '')
        .digest('base64url'),
    ).toBe(q.code_challenge);

    // Tokens stored (encrypted at rest), never echoed.
    const id = String(res.body.id);
    const creds = await storedCredentials(relay, id);
    const refreshToken = oauth.liveRefreshToken(creds.refreshToken ?? '');
    expect(refreshToken).toBe(creds.refreshToken);
    const accessToken = oauth.latestAccessToken(refreshToken ?? '') ?? '';
    expect(creds.accessToken).toBe(accessToken);
    expect(Number(creds.expiresAt)).toBeGreaterThan(Date.now() + 3500_000);
    const raw = await relay.instance.store.redis.hgetall(relay.instance.store.keys.account(id as AccountId));
    const everything = [
      JSON.stringify(res.body),
      JSON.stringify((await relay.admin.request('GET', `/admin/accounts/${id}`)).body),
      JSON.stringify((await relay.admin.request('GET', '/admin/accounts')).body),
      JSON.stringify(raw),
    ];
    for (const text of everything) {
      expect(text).not.toContain(accessToken);
      expect(text).not.toContain(creds.refreshToken);
    }

    // And the account answers with its bearer token.
    const answer = await ask(relay.url, relayKey, { model: SONNET });
    expect(answer.status, answer.text).toBe(200);
    expect(fake.requests.at(-1)?.headers.authorization).toBe(`Bearer ${accessToken}`);
  });

  it('accepts the whole callback URL as the pasted code', async () => {
    const { sessionId, authorizationUrl } = await start();
    const callback = await signIn(authorizationUrl);
    const res = await relay.admin.request<Record<string, unknown>>('POST', '/admin/oauth/claude/exchange', {
      sessionId,
      code: callback.toString(),
      name: 'pasted url',
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ type: 'oauth', name: 'pasted url' });
  });

  it('refuses a code of another authorization, a refused code and a used session, creating nothing', async () => {
    const first = await start();
    const callback = await signIn(first.authorizationUrl);
    const code = callback.searchParams.get('code') ?? '';

    const mismatch = await relay.admin.request<AdminError>('POST', '/admin/oauth/claude/exchange', {
      sessionId: first.sessionId,
      code: `${code}#not-the-state`,
    });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.error).toMatchObject({
      code: 'admin_invalid',
      message: expect.stringContaining('state mismatch'),
    });

    // The session was used up by that attempt: a code can only be tried once per session.
    const again = await relay.admin.request<AdminError>('POST', '/admin/oauth/claude/exchange', {
      sessionId: first.sessionId,
      code,
    });
    expect(again.status).toBe(400);
    expect(again.body.error.message).toContain('sessionId');

    const second = await start();
    const refused = await relay.admin.request<AdminError>('POST', '/admin/oauth/claude/exchange', {
      sessionId: second.sessionId,
      code: 'code-that-was-never-issued',
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toMatch(/refused.*invalid_grant/);

    const list = await relay.admin.request<{ items: unknown[] }>('GET', '/admin/accounts');
    expect(list.body.items).toHaveLength(0);
  });

  it('imports an existing token pair; its secrets are shown only as hints', async () => {
    const tokens = oauth.issue();
    const res = await relay.admin.request<Record<string, unknown>>('POST', '/admin/accounts', {
      platform: 'claude',
      type: 'oauth',
      name: 'imported',
      baseUrl: fake.url,
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken,
      expiresAt: String(tokens.expiresAt),
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.credentialHints).toEqual({
      accessToken: `…${tokens.accessToken.slice(-4)}`,
      refreshToken: `…${tokens.refreshToken.slice(-4)}`,
      expiresAt: '…',
    });
    expect(JSON.stringify(res.body)).not.toContain(tokens.accessToken);
    expect(JSON.stringify(res.body)).not.toContain(tokens.refreshToken);
    expect(await storedCredentials(relay, String(res.body.id))).toEqual({
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken,
      expiresAt: String(tokens.expiresAt),
    });
  });

  it('rejects an import without an access token, in the admin error shape', async () => {
    const res = await relay.admin.request<AdminError>('POST', '/admin/accounts', {
      platform: 'claude',
      type: 'oauth',
      name: 'no token',
      refreshToken: 'sk-ant-ort01-something',
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'admin_invalid', message: expect.stringContaining('accessToken') });
  });

  it.each(['tomorrow', '2026-12-01T00:00:00Z', '17640000000000000'])(
    'rejects an import whose expiresAt is not epoch milliseconds (%s)',
    async (expiresAt) => {
      const res = await relay.admin.request<AdminError>('POST', '/admin/accounts', {
        platform: 'claude',
        type: 'oauth',
        name: 'bad expiry',
        accessToken: 'sk-ant-oat01-something',
        expiresAt,
      });
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({
        code: 'admin_invalid',
        message: expect.stringContaining('expiresAt: not valid'),
      });
      expect((await relay.admin.request<{ items: unknown[] }>('GET', '/admin/accounts')).body.items).toHaveLength(0);
    },
  );

  it.each([false, true])(
    'serves Messages (stream: %s) with the bearer token and the OAuth beta merged into the client betas, never an x-api-key',
    async (stream) => {
      const { tokens } = await importOAuthAccount(relay.admin, oauth, fake.url);
      const usage = {
        input_tokens: 31,
        output_tokens: 7,
        cache_read_input_tokens: 900,
        cache_creation_input_tokens: 40,
      };
      fake.setDefault({ kind: 'message', text: 'via oauth', usage, deltas: 1 });
      const before = (await relay.admin.keyUsage(keyId)).total;

      const answer = await ask(relay.url, relayKey, {
        stream,
        headers: {
          'anthropic-beta': 'interleaved-thinking-2025-05-14, oauth-2025-04-20,fine-grained-tool-streaming-2025-05-14',
        },
      });
      expect(answer.status, answer.text).toBe(200);
      expect(answer.text).toContain('via oauth');

      const upstream = fake.requests.at(-1);
      expect(upstream?.headers.authorization).toBe(`Bearer ${tokens.accessToken}`);
      expect(upstream?.headers['x-api-key']).toBeUndefined();
      expect(upstream?.headers['anthropic-beta']).toBe(
        'interleaved-thinking-2025-05-14,oauth-2025-04-20,fine-grained-tool-streaming-2025-05-14',
      );
      expect(JSON.stringify(upstream?.headers)).not.toContain(relayKey);

      // A client without betas still gets the OAuth one.
      await ask(relay.url, relayKey, { stream });
      expect(fake.requests.at(-1)?.headers['anthropic-beta']).toBe('oauth-2025-04-20');

      const after = (await relay.admin.keyUsage(keyId)).total;
      expect(after.requests - before.requests).toBe(2);
      expect(after.inputTokens - before.inputTokens).toBe(62);
      expect(after.outputTokens - before.outputTokens).toBe(14);
      expect(after.cacheReadTokens - before.cacheReadTokens).toBe(1800);
      expect(after.cacheCreateTokens - before.cacheCreateTokens).toBe(80);
      // A fresh token is not refreshed.
      expect(oauth.refreshCalls()).toBe(0);
    },
  );

  it('serves count_tokens with the bearer token too', async () => {
    const { tokens } = await importOAuthAccount(relay.admin, oauth, fake.url);
    const answer = await ask(relay.url, relayKey, { path: '/api/v1/messages/count_tokens' });
    expect(answer.status, answer.text).toBe(200);
    expect(answer.json).toMatchObject({ input_tokens: expect.any(Number) });
    expect(fake.requests.at(-1)?.headers.authorization).toBe(`Bearer ${tokens.accessToken}`);
    expect(fake.requests.at(-1)?.headers['anthropic-beta']).toBe('oauth-2025-04-20');
  });

  it('uses an imported access token without a refresh token as it is, even past its stated expiry', async () => {
    const tokens = oauth.issue();
    const res = await relay.admin.request<{ id: string }>('POST', '/admin/accounts', {
      platform: 'claude',
      type: 'oauth',
      name: 'long-lived token',
      baseUrl: fake.url,
      accessToken: tokens.accessToken,
      expiresAt: String(Date.now() - 60_000),
    });
    expect(res.status).toBe(201);
    const refreshesBefore = oauth.refreshCalls();
    const answer = await ask(relay.url, relayKey);
    expect(answer.status, answer.text).toBe(200);
    expect(fake.requests.at(-1)?.headers.authorization).toBe(`Bearer ${tokens.accessToken}`);
    expect(oauth.refreshCalls()).toBe(refreshesBefore);
  });
});
