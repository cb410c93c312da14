import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeGemini, type FakeGemini, type GeminiUsage } from '../fakes/gemini.js';
import { expectedTokens } from '../fakes/gemini-wire.js';
import { health } from '../support/pool.js';
import { startTestRelay, type TestRelay } from '../support/relay.js';
import { readReply, type Reply } from '../support/reply.js';

/**
 * Google OAuth accounts (Code Assist, as Gemini CLI uses it with a Google login): the admin's
 * authorization flow, tokens refreshed at Google's token endpoint, the account's project found
 * once (loadCodeAssist, or onboardUser for a new user) and named in every call; native clients
 * bridged to Code Assist and back; Code Assist clients served by either kind of account; the
 * Code Assist set-up calls the relay answers itself.
 */

const MODEL = 'gemini-2.5-pro';
const CONTENTS = [{ role: 'user', parts: [{ text: 'Say hi.' }] }];
const USAGE: GeminiUsage = {
  promptTokenCount: 3_000,
  cachedContentTokenCount: 2_048,
  candidatesTokenCount: 25,
  thoughtsTokenCount: 75,
};
let seq = 0;

describe('Google OAuth (Code Assist) accounts', () => {
  let fake: FakeGemini;
  let relay: TestRelay;

  beforeAll(async () => {
    fake = await startFakeGemini();
    relay = await startTestRelay({
      env: {
        GEMINI_API_URL: fake.url,
        CODE_ASSIST_URL: fake.url,
        GOOGLE_OAUTH_TOKEN_URL: fake.tokenUrl,
        GOOGLE_OAUTH_AUTHORIZE_URL: `${fake.url}/o/oauth2/v2/auth`,
        BREAKER_VOLUME: '100000',
      },
    });
  });
  afterAll(async () => {
    await relay?.close();
    await fake?.close();
  });
  beforeEach(() => fake.reset());

  /**
   * A Google user on the fake and a relay account for them (imported with a refresh token only), and a key bound to it.
   */
  async function oauthAccount(opts: { onboarded?: boolean; projectId?: string; rotate?: boolean } = {}) {
    const userId = `user${++seq}`;
    const refreshToken = `1//fake-refresh-${userId}-initial`;
    const user = fake.addUser({
      id: userId,
      refreshToken,
      onboarded: opts.onboarded,
      rotate: opts.rotate,
      ...(opts.projectId ? { project: opts.projectId } : {}),
    });
    const { id } = await relay.admin.createAccount({
      platform: 'gemini',
      type: 'oauth',
      name: userId,
      refreshToken,
      ...(opts.projectId ? { projectId: opts.projectId } : {}),
    });
    const key = await relay.admin.createKey({ name: `key for ${userId}`, accountIds: [id] });
    return { userId, user, id, key, refreshToken };
  }

  async function post(
    path: string,
    key: string,
    body: unknown,
    headers: Record<string, string> = {},
  ): Promise<Reply<unknown>> {
    const res = await fetch(`${relay.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers, ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify(body),
    });
    return readReply<unknown>(res, undefined);
  }
  const native = (key: string, method: string, body: unknown = { contents: CONTENTS }, query = '') =>
    post(`/gemini/v1beta/models/${MODEL}:${method}${query}`, '', body, { 'x-goog-api-key': key });
  const generateCalls = () =>
    fake.requests.filter((r) => r.pathname.startsWith('/v1internal:') && /Content$/.test(r.pathname));

  describe("the admin's authorization flow", () => {
    it('PKCE with Google, offline access and consent; the exchange creates the account with its project, secrets never shown', async () => {
      const user = fake.addUser({
        id: `login${++seq}`,
        refreshToken: `1//fake-refresh-login-${seq}`,
        email: 'dev@example.com',
      });
      const start = await relay.admin.request<{ sessionId: string; authorizationUrl: string }>(
        'POST',
        '/admin/oauth/gemini/start',
      );
      expect(start.status).toBe(200);
      const url = new URL(start.body.authorizationUrl);
      expect(url.origin + url.pathname).toBe(`${fake.url}/o/oauth2/v2/auth`);
      const q = Object.fromEntries(url.searchParams);
      expect(q).toMatchObject({
        client_id: '681255809395-oo8ft2oprdrnp9e3aqf6av3hmdib135j.apps.googleusercontent.com',
        redirect_uri: 'https://codeassist.google.com/authcode',
        response_type: 'code',
        access_type: 'offline',
        prompt: 'consent',
        code_challenge_method: 'S256',
      });
      expect(q.scope?.split(' ')).toEqual(
        expect.arrayContaining([
          'https://www.googleapis.com/auth/cloud-platform',
          'https://www.googleapis.com/auth/userinfo.email',
        ]),
      );
      expect(q.state).toMatch(/^[\w-]{16,}$/);

      const code = fake.authorize(user.id, q.code_challenge ?? '', q.redirect_uri ?? '');
      const exchanged = await relay.admin.request<Record<string, unknown>>('POST', '/admin/oauth/gemini/exchange', {
        sessionId: start.body.sessionId,
        code: `https://codeassist.google.com/authcode?code=${encodeURIComponent(code)}&state=${q.state}`,
      });
      expect(exchanged.status, JSON.stringify(exchanged.body)).toBe(201);
      expect(exchanged.body).toMatchObject({
        platform: 'gemini',
        type: 'oauth',
        name: 'dev@example.com',
        options: { projectId: user.project },
      });
      const shown =
        JSON.stringify(exchanged.body) +
        JSON.stringify((await relay.admin.request('GET', `/admin/accounts/${String(exchanged.body.id)}`)).body);
      expect(shown).not.toContain(user.refreshToken);
      expect(shown).not.toMatch(/ya29\.fake/);
      // The code went to Google's token endpoint with the installed-app client's credentials and the verifier.
      expect(fake.tokenCalls).toEqual([
        expect.objectContaining({
          grantType: 'authorization_code',
          code,
          clientId: q.client_id,
          clientSecret: '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',
          status: 200,
        }),
      ]);

      // The account works at once, in its project.
      const key = await relay.admin.createKey({ accountIds: [String(exchanged.body.id)] });
      const res = await native(key.key, 'generateContent');
      expect(res.status, res.text).toBe(200);
      expect(generateCalls()[0]?.body).toMatchObject({ project: user.project });
    });

    it('a code Google refuses (a wrong verifier) creates nothing and says why', async () => {
      const user = fake.addUser({ id: `login${++seq}`, refreshToken: `1//fake-refresh-login-${seq}` });
      const start = await relay.admin.request<{ sessionId: string }>('POST', '/admin/oauth/gemini/start');
      const code = fake.authorize(
        user.id,
        'a-challenge-for-some-other-verifier',
        'https://codeassist.google.com/authcode',
      );
      const before = (await relay.admin.request<unknown[]>('GET', '/admin/accounts')).body.length;
      const res = await relay.admin.request<{ error: { message: string } }>('POST', '/admin/oauth/gemini/exchange', {
        sessionId: start.body.sessionId,
        code,
      });
      expect(res.status).toBe(400);
      expect(res.body.error.message).toMatch(/refused.*invalid_grant/);
      expect((await relay.admin.request<unknown[]>('GET', '/admin/accounts')).body.length).toBe(before);
    });
  });

  describe('native clients served by an OAuth account (bridged to Code Assist)', () => {
    it("generateContent: wrapped with the account's project and a bearer token; unwrapped back; booked as reported", async () => {
      const { key, user, userId } = await oauthAccount();
      fake.setDefault({ kind: 'message', text: 'Hello from Code Assist.', usage: USAGE });
      const res = await native(key.key, 'generateContent', {
        contents: CONTENTS,
        generationConfig: { temperature: 0 },
      });
      expect(res.status, res.text).toBe(200);
      expect(res.json).toMatchObject({
        candidates: [{ content: { parts: [{ text: 'Hello from Code Assist.' }] } }],
        usageMetadata: { promptTokenCount: 3_000 },
        responseId: 'fake-response-1',
      });
      expect(res.json).not.toHaveProperty('response');

      // One refresh (the account was imported without an access token), one loadCodeAssist, one call.
      expect(fake.tokenCalls).toEqual([
        expect.objectContaining({ grantType: 'refresh_token', refreshToken: user.refreshToken, status: 200 }),
      ]);
      const calls = generateCalls();
      expect(calls).toHaveLength(1);
      expect(calls[0]?.path).toBe('/v1internal:generateContent');
      expect(calls[0]?.account).toBe(userId);
      expect(calls[0]?.headers.authorization).toMatch(/^Bearer ya29\.fake-/);
      expect(calls[0]?.body).toEqual({
        model: MODEL,
        project: user.project,
        user_prompt_id: expect.any(String) as unknown,
        request: { contents: CONTENTS, generationConfig: { temperature: 0 } },
      });
      expect(JSON.stringify(calls[0]?.headers) + calls[0]?.rawBody).not.toContain(key.key);
      expect((await relay.admin.keyUsage(key.id)).total).toMatchObject({ requests: 1, ...expectedTokens([USAGE]) });
    });

    it.each(['?alt=sse', ''])(
      "streamGenerateContent%s: chunks unwrapped in the client's framing; booked from the last",
      async (query) => {
        const { key } = await oauthAccount();
        fake.setDefault({ kind: 'message', text: 'Streamed through Code Assist.', usage: USAGE, parts: 3 });
        const res = await native(key.key, 'streamGenerateContent', { contents: CONTENTS }, query);
        expect(res.status, res.text).toBe(200);
        const chunks = (
          query
            ? res.text
                .split('\r\n\r\n')
                .filter(Boolean)
                .map((e) => JSON.parse(e.replace(/^data: /, '')) as unknown)
            : res.json
        ) as {
          candidates: { content: { parts: { text: string }[] } }[];
          response?: unknown;
        }[];
        expect(chunks).toHaveLength(3);
        expect(chunks.every((c) => c.response === undefined)).toBe(true);
        expect(chunks.map((c) => c.candidates[0]?.content.parts[0]?.text).join('')).toBe(
          'Streamed through Code Assist.',
        );
        expect(generateCalls().map((r) => r.path)).toEqual(['/v1internal:streamGenerateContent?alt=sse']);
        expect((await relay.admin.keyUsage(key.id)).total).toMatchObject({ requests: 1, ...expectedTokens([USAGE]) });
      },
    );

    it("countTokens: Code Assist's request shape; the answer as it came; not booked", async () => {
      const { key } = await oauthAccount();
      const res = await native(key.key, 'countTokens');
      expect(res.status, res.text).toBe(200);
      expect(res.json).toEqual({ totalTokens: expect.any(Number) as unknown });
      const call = fake.requests.find((r) => r.pathname === '/v1internal:countTokens');
      expect(call?.body).toEqual({ request: { model: `models/${MODEL}`, contents: CONTENTS } });
      expect((await relay.admin.keyUsage(key.id)).total).toMatchObject({ requests: 0 });
    });
  });

  describe("the account's project", () => {
    it('found once through loadCodeAssist, even for requests at once, and kept with the account', async () => {
      const { key, id, user } = await oauthAccount();
      const answers = await Promise.all([1, 2, 3, 4].map(() => native(key.key, 'generateContent')));
      expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200]);
      expect(fake.requests.filter((r) => r.pathname === '/v1internal:loadCodeAssist')).toHaveLength(1);
      expect(generateCalls().map((r) => (r.body as { project: string }).project)).toEqual([
        user.project,
        user.project,
        user.project,
        user.project,
      ]);
      expect(
        (await relay.admin.request<{ options: Record<string, string> }>('GET', `/admin/accounts/${id}`)).body.options,
      ).toEqual({ projectId: user.project });
    });

    it('a project the admin set is used as it is (no lookup)', async () => {
      const { key } = await oauthAccount({ projectId: 'project-the-admin-chose' });
      const res = await native(key.key, 'generateContent');
      expect(res.status, res.text).toBe(200);
      expect(fake.requests.filter((r) => r.pathname === '/v1internal:loadCodeAssist')).toHaveLength(0);
      expect(generateCalls()[0]?.body).toMatchObject({ project: 'project-the-admin-chose' });
    });

    it('a user never set up is onboarded (free tier, a managed project) and the project kept', async () => {
      const { key, id, user } = await oauthAccount({ onboarded: false });
      const res = await native(key.key, 'generateContent');
      expect(res.status, res.text).toBe(200);
      expect(fake.requests.map((r) => r.pathname).filter((p) => p.startsWith('/v1internal'))).toEqual([
        '/v1internal:loadCodeAssist',
        '/v1internal:onboardUser',
        expect.stringMatching(/^\/v1internal\/operations\/fake-onboard-/) as unknown as string,
        '/v1internal:generateContent',
      ]);
      expect(fake.requests.find((r) => r.pathname === '/v1internal:onboardUser')?.body).toMatchObject({
        tierId: 'free-tier',
      });
      expect(user.project).toBe(`fake-managed-${user.id}`);
      expect(generateCalls()[0]?.body).toMatchObject({ project: user.project });
      expect(
        (await relay.admin.request<{ options: Record<string, string> }>('GET', `/admin/accounts/${id}`)).body.options,
      ).toEqual({ projectId: user.project });
    });
  });

  describe('Code Assist clients (as Gemini CLI with a Google login calls the relay)', () => {
    const caBody = (project: string) => ({
      model: MODEL,
      project,
      user_prompt_id: 'prompt-1',
      request: { contents: CONTENTS, session_id: 'session-1' },
    });

    it("served by an OAuth account: the account's project replaces the client's", async () => {
      const { key, user } = await oauthAccount();
      fake.setDefault({ kind: 'message', text: 'Hi.', usage: USAGE });
      const res = await post('/gemini/v1internal:generateContent', key.key, caBody('claude-relay-service'));
      expect(res.status, res.text).toBe(200);
      expect(res.json).toMatchObject({
        response: { candidates: [{ content: { parts: [{ text: 'Hi.' }] } }] },
        traceId: 'fake-response-1',
      });
      expect(generateCalls()[0]?.body).toEqual({ ...caBody(user.project ?? ''), model: MODEL });
      expect((await relay.admin.keyUsage(key.id)).total).toMatchObject({ requests: 1, ...expectedTokens([USAGE]) });
    });

    it('served by an API-key account: the inner request goes native (without session_id), the answer comes back wrapped', async () => {
      const { id } = await relay.admin.createAccount({
        platform: 'gemini',
        type: 'api-key',
        name: `native for CA ${++seq}`,
        apiKey: 'AIzaSy-fake-for-code-assist-0001',
      });
      const key = await relay.admin.createKey({ accountIds: [id] });
      fake.setDefault({ kind: 'message', text: 'Hi from the API.', usage: USAGE, parts: 2 });

      const res = await post('/gemini/v1internal:generateContent', key.key, caBody('whatever'));
      expect(res.status, res.text).toBe(200);
      expect(res.json).toMatchObject({
        response: { candidates: [{ content: { parts: [{ text: 'Hi from the API.' }] } }] },
        traceId: 'fake-response-1',
      });
      expect(fake.requests[0]?.path).toBe(`/v1beta/models/${MODEL}:generateContent`);
      expect(fake.requests[0]?.body).toEqual({ contents: CONTENTS });

      const streamed = await post('/gemini/v1internal:streamGenerateContent?alt=sse', key.key, caBody('whatever'));
      expect(streamed.status, streamed.text).toBe(200);
      const lines = streamed.text.split('\r\n').filter((l) => l.startsWith('data: '));
      expect(
        lines
          .map(
            (l) =>
              (JSON.parse(l.slice(6)) as { response: { candidates: { content: { parts: { text: string }[] } }[] } })
                .response.candidates[0]?.content.parts[0]?.text,
          )
          .join(''),
      ).toBe('Hi from the API.');

      const counted = await post('/gemini/v1internal:countTokens', key.key, {
        request: { model: `models/${MODEL}`, contents: CONTENTS },
      });
      expect(counted.status, counted.text).toBe(200);
      expect(counted.json).toMatchObject({ totalTokens: expect.any(Number) as unknown });
      expect(fake.requests[2]?.path).toBe(`/v1beta/models/${MODEL}:countTokens`);
      expect((await relay.admin.keyUsage(key.id)).total).toMatchObject({
        requests: 2,
        ...expectedTokens([USAGE, USAGE]),
      });
    });

    it('the set-up calls are answered by the relay: a ready account, defaults everywhere; the key is required', async () => {
      const { key } = await oauthAccount();
      const load = await post('/gemini/v1internal:loadCodeAssist', key.key, { metadata: { pluginType: 'GEMINI' } });
      expect(load.status).toBe(200);
      expect(load.json).toMatchObject({
        currentTier: { id: 'standard-tier' },
        cloudaicompanionProject: 'claude-relay-service',
      });
      expect((await post('/gemini/v1internal:onboardUser', key.key, { tierId: 'standard-tier' })).json).toMatchObject({
        done: true,
        response: { cloudaicompanionProject: { id: 'claude-relay-service' } },
      });
      expect(
        (await post('/gemini/v1internal:listExperiments', key.key, { project: 'claude-relay-service' })).json,
      ).toEqual({ experimentIds: [], flags: [] });
      expect(
        (await post('/gemini/v1internal:retrieveUserQuota', key.key, { project: 'claude-relay-service' })).json,
      ).toEqual({ buckets: [] });
      expect(
        (await post('/gemini/v1internal:fetchAdminControls', key.key, { project: 'claude-relay-service' })).json,
      ).toEqual({});
      expect((await post('/gemini/v1internal:recordCodeAssistMetrics', key.key, { metrics: [] })).status).toBe(200);
      const setting = await fetch(`${relay.url}/gemini/v1internal:getCodeAssistGlobalUserSetting`, {
        headers: { authorization: `Bearer ${key.key}` },
      });
      expect(setting.status).toBe(200);
      expect(fake.requests).toHaveLength(0);

      const anonymous = await post('/gemini/v1internal:loadCodeAssist', '', {});
      expect(anonymous).toMatchObject({ status: 401, json: { error: { code: 401, status: 'UNAUTHENTICATED' } } });
    });

    it("a bad Code Assist body is a 400 in Google's shape, before any upstream call", async () => {
      const { key } = await oauthAccount();
      const res = await post('/gemini/v1internal:generateContent', key.key, {
        model: MODEL,
        request: { contents: 'hi' },
      });
      expect(res.status).toBe(400);
      expect(res.json).toMatchObject({
        error: {
          code: 400,
          status: 'INVALID_ARGUMENT',
          message: expect.stringContaining('request.contents') as unknown,
        },
      });
      expect(fake.requests).toHaveLength(0);
    });
  });

  describe('tokens', () => {
    it('a token Code Assist rejects (401) is refreshed once and the call retried on the same account', async () => {
      const { key, userId } = await oauthAccount();
      expect((await native(key.key, 'generateContent')).status).toBe(200);
      const firstToken = generateCalls()[0]?.headers.authorization;
      fake.revokeAccessTokens(userId);
      const res = await native(key.key, 'generateContent');
      expect(res.status, res.text).toBe(200);
      const calls = generateCalls();
      expect(calls.map((c) => c.headers.authorization === firstToken)).toEqual([true, true, false]);
      expect(fake.tokenCalls.map((c) => c.grantType)).toEqual(['refresh_token', 'refresh_token']);
    });

    it("a refresh token Google no longer accepts takes the account out of rotation; the client gets Google's shape", async () => {
      const { key, id, user } = await oauthAccount();
      user.refreshToken = '1//fake-revoked-and-replaced';
      const res = await native(key.key, 'generateContent');
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.json).toMatchObject({ error: { code: res.status } });
      expect(fake.tokenCalls).toEqual([expect.objectContaining({ grantType: 'refresh_token', status: 400 })]);
      expect(generateCalls()).toHaveLength(0);
      const h = await health(relay.admin, id);
      expect(h.routable).toBe(false);
      expect(h.blockers[0]).toMatchObject({ reason: 'unauthorized' });
    });
  });
});
