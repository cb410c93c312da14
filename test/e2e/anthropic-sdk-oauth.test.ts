import { randomBytes } from 'node:crypto';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic, type FakeUsage } from '../fakes/anthropic.js';
import { startFakeOAuthServer, type FakeOAuthServer } from '../fakes/oauth-server.js';
import { CLAUDE_TOKEN_FIELDS, claudeOAuthEnv, importOAuthAccount, type OAuthAccount } from '../support/claude-oauth.js';
import { startTestRelay, storedCredentials, type TestRelay } from '../support/relay.js';
import { booked, expectedBooking, sumBooked } from '../support/usage-math.js';

/**
 * The official Anthropic SDK, unchanged, pointed at the relay's /api, served by a Claude OAuth
 * account: the upstream sees the account's bearer token with the OAuth beta (added to the SDK's
 * own betas), never the relay key; a token found expired is refreshed on the way; the key's books
 * equal what the upstream reported, cache tokens included, streamed or not.
 */

const MODEL = 'claude-opus-5-5';
const FIRST: FakeUsage = {
  input_tokens: 12,
  output_tokens: 34,
  cache_creation_input_tokens: 2048,
  cache_read_input_tokens: 0,
  cache_creation: { ephemeral_5m_input_tokens: 2048, ephemeral_1h_input_tokens: 0 },
};
const SECOND: FakeUsage = {
  input_tokens: 5,
  output_tokens: 21,
  cache_creation_input_tokens: 0,
  cache_read_input_tokens: 2048,
};
const SYSTEM: Anthropic.TextBlockParam[] = [
  { type: 'text', text: 'You answer in one line. '.repeat(60), cache_control: { type: 'ephemeral' } },
];

describe('@anthropic-ai/sdk through the relay to a Claude OAuth account', () => {
  let oauth: FakeOAuthServer;
  let fake: FakeAnthropic;
  let relay: TestRelay;

  beforeAll(async () => {
    oauth = await startFakeOAuthServer({
      accessPrefix: 'sk-ant-oat01-',
      refreshPrefix: 'sk-ant-ort01-',
      responseFields: CLAUDE_TOKEN_FIELDS,
    });
    fake = await startFakeAnthropic({ authorize: (token) => oauth.isValidAccessToken(token) });
    relay = await startTestRelay({ env: claudeOAuthEnv(oauth) });
  });

  afterAll(async () => {
    await relay?.close();
    await fake?.close();
    await oauth?.close();
  });

  it.each([false, true])(
    'two turns with prompt caching (stream %s), the token refreshed first: answers and books exactly',
    async (stream) => {
      // The account's token is about to expire: the first call refreshes it.
      const account: OAuthAccount = await importOAuthAccount(relay.admin, oauth, fake.url, {
        name: `sdk ${stream}`,
        expiresAt: Date.now() + 30_000,
      });
      const key = await relay.admin.createKey({ name: `sdk oauth ${stream}`, accountIds: [account.id] });
      const client = new Anthropic({ apiKey: key.key, baseURL: `${relay.url}/api`, maxRetries: 0 });
      const from = fake.requests.length;
      const refreshes = oauth.refreshCalls(200);

      const question: Anthropic.MessageParam = {
        role: 'user',
        content: `Capital of Portugal? (${stream}, ${randomBytes(4).toString('hex')})`,
      };
      const ask = async (messages: Anthropic.MessageParam[], text: string, usage: FakeUsage) => {
        fake.script('*', { kind: 'message', text, usage, deltas: 4 });
        const req = {
          model: MODEL,
          max_tokens: 256,
          system: SYSTEM,
          messages,
          betas: ['interleaved-thinking-2025-05-14'],
        };
        return stream ? client.beta.messages.stream(req).finalMessage() : client.beta.messages.create(req);
      };
      const first = await ask([question], 'Lisbon.', FIRST);
      expect(first.content).toEqual([{ type: 'text', text: 'Lisbon.' }]);
      expect(first.usage).toMatchObject({
        input_tokens: 12,
        output_tokens: 34,
        cache_creation_input_tokens: 2048,
        cache_read_input_tokens: 0,
      });
      const second = await ask(
        [
          question,
          { role: 'assistant', content: first.content as Anthropic.MessageParam['content'] },
          { role: 'user', content: 'And of Spain?' },
        ],
        'Madrid.',
        SECOND,
      );
      expect(second.content).toEqual([{ type: 'text', text: 'Madrid.' }]);
      expect(second.usage).toMatchObject({ input_tokens: 5, output_tokens: 21, cache_read_input_tokens: 2048 });

      // Refreshed once; both calls went out with the new bearer token and the merged betas.
      expect(oauth.refreshCalls(200)).toBe(refreshes + 1);
      const token = oauth.latestAccessToken(account.tokens.refreshToken) ?? '';
      expect(token).not.toBe(account.tokens.accessToken);
      expect(await storedCredentials(relay, account.id)).toMatchObject({
        accessToken: token,
        refreshToken: oauth.liveRefreshToken(account.tokens.refreshToken),
      });
      const got = fake.requests.slice(from);
      expect(got.map((r) => r.apiKey)).toEqual([token, token]);
      for (const r of got) {
        expect(r.headers.authorization).toBe(`Bearer ${token}`);
        expect(r.headers['x-api-key']).toBeUndefined();
        expect(r.headers['anthropic-beta']).toBe('interleaved-thinking-2025-05-14,oauth-2025-04-20');
        expect(r.headers['user-agent']).toMatch(/^Anthropic\/JS /);
        expect(JSON.stringify(r.headers) + r.rawBody).not.toContain(key.key);
        expect(r.body).toMatchObject({ model: MODEL, system: SYSTEM });
        expect((r.body as { stream?: boolean }).stream === true).toBe(stream);
      }

      // The key's books: exactly the two reported usages, priced by hand.
      expect(booked((await relay.admin.keyUsage(key.id)).total)).toEqual(
        sumBooked([expectedBooking(MODEL, FIRST), expectedBooking(MODEL, SECOND)]),
      );
      expect(booked((await relay.admin.accountUsage(account.id)).total)).toEqual(
        sumBooked([expectedBooking(MODEL, FIRST), expectedBooking(MODEL, SECOND)]),
      );
    },
  );

  it("an OAuth account whose grant was withdrawn: the SDK gets a 502 in Anthropic's shape saying the account was refused", async () => {
    const account = await importOAuthAccount(relay.admin, oauth, fake.url, {
      name: 'withdrawn',
      expiresAt: Date.now() - 1000,
    });
    oauth.revokeFamily(account.tokens.refreshToken);
    const key = await relay.admin.createKey({ name: 'sdk withdrawn', accountIds: [account.id] });
    const client = new Anthropic({ apiKey: key.key, baseURL: `${relay.url}/api`, maxRetries: 0 });
    const from = fake.requests.length;

    const error = await client.messages
      .create({ model: MODEL, max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.APIError);
    const apiError = error as InstanceType<typeof Anthropic.APIError>;
    // Not a 401: the client's relay key is fine, the upstream account is not.
    expect(apiError.status).toBe(502);
    expect(apiError.error).toMatchObject({
      type: 'error',
      error: { type: 'api_error', message: expect.stringContaining('The upstream account was refused (HTTP 401)') },
    });
    expect(JSON.stringify(apiError.error)).not.toContain(account.tokens.refreshToken);
    expect(fake.requests.length).toBe(from);
  });
});
