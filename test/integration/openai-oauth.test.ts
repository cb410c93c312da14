import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FakeOAuthServer } from '../fakes/oauth-server.js';
import { startFakeOpenAI, type FakeOpenAI, type FakeOpenAIUsage } from '../fakes/openai.js';
import {
  CHATGPT_ACCOUNT_ID,
  CHATGPT_EMAIL,
  importChatGPTAccount,
  openaiBooking,
  openaiOAuthEnv,
  startOpenAIOAuthServer,
} from '../support/openai.js';
import { startTestRelay, storedCredentials, type TestRelay } from '../support/relay.js';
import { booked, untilBooked } from '../support/usage-math.js';

/**
 * ChatGPT subscription (Codex login) accounts: created through the admin OAuth flow exactly as
 * Codex CLI signs in, served on the ChatGPT backend with its rules, refreshed before expiry and
 * after a 401 (rotating refresh tokens), and marked unauthorized when the grant is gone.
 */

const SOL = 'gpt-6.2-sol';
const USAGE: FakeOpenAIUsage = { input: 3000, cached: 2048, output: 64, reasoning: 20 };

describe('OpenAI OAuth (ChatGPT) accounts', () => {
  let oauth: FakeOAuthServer;
  let fake: FakeOpenAI;
  let relay: TestRelay;

  beforeAll(async () => {
    oauth = await startOpenAIOAuthServer();
    fake = await startFakeOpenAI({ chatgptToken: (t) => oauth.isValidAccessToken(t) });
    relay = await startTestRelay({ env: openaiOAuthEnv(oauth, fake) });
  });
  afterEach(() => {
    fake.reset();
    oauth.requests.length = 0;
  });
  afterAll(async () => {
    await relay?.close();
    await fake?.close();
    await oauth?.close();
  });

  const keyFor = async (accountId: string) => {
    const key = await relay.admin.createKey({ name: `chatgpt ${accountId}`, accountIds: [accountId] });
    return { ...key, client: new OpenAI({ apiKey: key.key, baseURL: `${relay.url}/openai/v1`, maxRetries: 0 }) };
  };

  it('the admin OAuth flow signs in as Codex does and creates the account; secrets never come back', async () => {
    const start = await relay.admin.request<{ sessionId: string; authorizationUrl: string }>(
      'POST',
      '/admin/oauth/openai/start',
      {},
    );
    expect(start.status).toBe(200);
    const url = new URL(start.body.authorizationUrl);
    expect(`${url.origin}${url.pathname}`).toBe(oauth.authorizeUrl);
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      response_type: 'code',
      client_id: 'app_EMoamEEZ73f0CkXaXp7hrann',
      redirect_uri: 'http://localhost:1455/auth/callback',
      scope: 'openid profile email offline_access api.connectors.read api.connectors.invoke',
      code_challenge_method: 'S256',
      id_token_add_organizations: 'true',
      codex_cli_simplified_flow: 'true',
    });
    expect(url.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);

    // The "browser": the fake signs in at once and redirects to Codex's callback; the admin pastes that URL.
    const signIn = await fetch(url, { redirect: 'manual' });
    const callback = signIn.headers.get('location') ?? '';
    expect(callback).toMatch(/^http:\/\/localhost:1455\/auth\/callback\?code=/);

    const made = await relay.admin.request<Record<string, unknown> & { id: string }>(
      'POST',
      '/admin/oauth/openai/exchange',
      { sessionId: start.body.sessionId, code: callback },
    );
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({
      platform: 'openai',
      type: 'oauth',
      name: CHATGPT_EMAIL,
      options: { chatgptAccountId: CHATGPT_ACCOUNT_ID, planType: 'pro' },
    });
    // The code exchange is a form post with the PKCE verifier, as Codex sends it.
    expect(oauth.requests).toHaveLength(1);
    expect(oauth.requests[0]).toMatchObject({
      grant: 'authorization_code',
      status: 200,
      contentType: 'application/x-www-form-urlencoded',
    });
    expect(oauth.requests[0]?.body).toMatchObject({
      client_id: 'app_EMoamEEZ73f0CkXaXp7hrann',
      redirect_uri: 'http://localhost:1455/auth/callback',
    });
    expect(oauth.requests[0]?.body.code_verifier).toMatch(/^[A-Za-z0-9_-]{43,128}$/);

    const creds = await storedCredentials(relay, made.body.id);
    expect(creds.accessToken).toMatch(/^chatgpt-access-/);
    expect(creds.refreshToken).toMatch(/^chatgpt-refresh-/);
    expect(creds.idToken).toBeDefined();
    for (const path of ['/admin/accounts', `/admin/accounts/${made.body.id}`]) {
      const text = JSON.stringify((await relay.admin.request('GET', path)).body) + JSON.stringify(made.body);
      for (const secret of [creds.accessToken, creds.refreshToken, creds.idToken]) expect(text).not.toContain(secret);
    }

    // It serves a Responses request, under the backend's rules, for a client that wants JSON.
    const key = await keyFor(made.body.id);
    fake.setDefault({ kind: 'answer', text: 'Hello from ChatGPT.', usage: USAGE });
    const res = await key.client.responses.create({ model: SOL, input: 'hi', max_output_tokens: 500 });
    expect(res.output_text).toBe('Hello from ChatGPT.');
    expect(res.usage).toMatchObject({ input_tokens: 3000, output_tokens: 64 });
    const call = fake.requests.at(-1);
    expect(call).toMatchObject({
      upstream: 'chatgpt',
      path: '/backend-api/codex/responses',
      body: { stream: true, store: false },
    });
    expect(call?.body).not.toHaveProperty('max_output_tokens');
    expect(call?.body?.input).toEqual([
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hi' }] },
    ]);
    expect(call?.headers).toMatchObject({
      authorization: `Bearer ${creds.accessToken}`,
      'chatgpt-account-id': CHATGPT_ACCOUNT_ID,
      originator: 'codex_cli_rs',
    });
    const report = await untilBooked(() => relay.admin.keyUsage(key.id), 1);
    expect(booked(report.total)).toEqual(openaiBooking(SOL, USAGE));
  });

  it('an expired token is refreshed first (JSON, as Codex refreshes); the rotated refresh token is stored', async () => {
    const { id, tokens } = await importChatGPTAccount(relay.admin, oauth, { expiresAt: Date.now() - 1000 });
    const key = await keyFor(id);
    const stream = key.client.responses.stream({ model: SOL, input: 'hi' });
    await stream.finalResponse();

    expect(oauth.requests).toHaveLength(1);
    expect(oauth.requests[0]).toMatchObject({ grant: 'refresh_token', status: 200, contentType: 'application/json' });
    expect(oauth.requests[0]?.body).toMatchObject({
      client_id: 'app_EMoamEEZ73f0CkXaXp7hrann',
      refresh_token: tokens.refreshToken,
      scope: 'openid profile email',
    });
    const fresh = oauth.latestAccessToken(tokens.refreshToken);
    expect(fresh).not.toBe(tokens.accessToken);
    expect(fake.requests.at(-1)?.headers.authorization).toBe(`Bearer ${fresh}`);
    const creds = await storedCredentials(relay, id);
    expect(creds).toMatchObject({ accessToken: fresh, refreshToken: oauth.liveRefreshToken(tokens.refreshToken) });
    expect(creds.refreshToken).not.toBe(tokens.refreshToken);
    expect(Number(creds.expiresAt)).toBeGreaterThan(Date.now() + 30 * 60_000);
  });

  it('a token the backend rejects is refreshed and the request tried once more', async () => {
    const { id, tokens } = await importChatGPTAccount(relay.admin, oauth);
    const key = await keyFor(id);
    oauth.revokeAccessToken(tokens.accessToken);
    fake.setDefault({ kind: 'answer', text: 'after a refresh', usage: USAGE });
    const res = await key.client.responses.create({ model: SOL, input: 'hi' });
    expect(res.output_text).toBe('after a refresh');
    const fresh = oauth.latestAccessToken(tokens.refreshToken);
    expect(fake.requests.map((r) => r.headers.authorization)).toEqual([
      `Bearer ${tokens.accessToken}`,
      `Bearer ${fresh}`,
    ]);
    expect(oauth.refreshCalls()).toBe(1);
  });

  it('a grant that is gone marks the account unauthorized; the client gets an OpenAI-shaped error', async () => {
    const { id, tokens } = await importChatGPTAccount(relay.admin, oauth, { expiresAt: Date.now() - 1000 });
    oauth.revokeFamily(tokens.refreshToken);
    const key = await keyFor(id);
    const err = await key.client.responses.create({ model: SOL, input: 'hi' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
    expect((err as InstanceType<typeof OpenAI.APIError>).error).toMatchObject({
      message: expect.stringContaining('The upstream account was refused (HTTP 401)'),
    });
    expect(fake.requests).toHaveLength(0);
    expect(oauth.refreshCalls(400)).toBe(1);
    const health = await relay.admin.request<{ blockers: { reason: string }[] }>('GET', `/admin/accounts/${id}/health`);
    expect(health.body.blockers.map((b) => b.reason)).toContain('unauthorized');
    // Marked: the next request does not spend the dead refresh token again.
    await key.client.responses.create({ model: SOL, input: 'hi' }).catch(() => undefined);
    expect(oauth.refreshCalls()).toBe(1);
  });

  it("the backend's own errors: `detail` reaches the client; a usage limit cools the account as long as it says", async () => {
    const { id } = await importChatGPTAccount(relay.admin, oauth);
    const key = await keyFor(id);
    fake.script(CHATGPT_ACCOUNT_ID, {
      kind: 'error',
      status: 400,
      rawBody: JSON.stringify({ detail: 'Instructions are not valid' }),
    });
    const bad = await key.client.responses.create({ model: SOL, input: 'hi' }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(OpenAI.BadRequestError);
    expect((bad as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({
      message: 'Upstream: Instructions are not valid',
    });

    const limit = {
      error: {
        type: 'usage_limit_reached',
        message: 'The usage limit has been reached',
        plan_type: 'pro',
        resets_in_seconds: 5400,
      },
    };
    fake.script(CHATGPT_ACCOUNT_ID, { kind: 'error', status: 429, rawBody: JSON.stringify(limit) });
    const limited = await key.client.responses.create({ model: SOL, input: 'hi' }).catch((e: unknown) => e);
    expect((limited as InstanceType<typeof OpenAI.APIError>).status).toBe(429);
    const health = await relay.admin.request<{ blockers: { reason: string; until: string }[] }>(
      'GET',
      `/admin/accounts/${id}/health?model=${SOL}`,
    );
    const until = Date.parse(health.body.blockers.find((b) => b.reason === 'rate_limited')?.until ?? '');
    expect(until - Date.now()).toBeGreaterThan(5000 * 1000);
    expect(until - Date.now()).toBeLessThanOrEqual(5400 * 1000);
  });

  it('a subscription account serves Responses only: chat and embeddings find no account', async () => {
    const { id } = await importChatGPTAccount(relay.admin, oauth);
    const key = await keyFor(id);
    const chat = await key.client.chat.completions
      .create({ model: SOL, messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(chat).toBeInstanceOf(OpenAI.APIError);
    expect((chat as InstanceType<typeof OpenAI.APIError>).status).toBe(503);
    expect((chat as InstanceType<typeof OpenAI.APIError>).error).toMatchObject({ code: 'no_account_available' });
    const embed = await key.client.embeddings
      .create({ model: 'text-embedding-3-small', input: 'x' })
      .catch((e: unknown) => e);
    expect((embed as InstanceType<typeof OpenAI.APIError>).status).toBe(503);
    expect(fake.requests).toHaveLength(0);
  });
});
