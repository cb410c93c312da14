import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FakeOAuthServer } from '../fakes/oauth-server.js';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai.js';
import { importChatGPTAccount, openaiOAuthEnv, startOpenAIOAuthServer } from '../support/openai.js';
import { resetOAuthTest, startTwoInstances } from '../support/oauth.js';
import { storedCredentials, type TestRelay } from '../support/relay.js';

/**
 * Two relay instances (one deployment: one Redis prefix) find one ChatGPT account's token expired,
 * or rejected, at the same moment under many concurrent Responses requests. OpenAI's refresh
 * tokens rotate: only one instance may spend the refresh token, everybody else must use what it
 * stored, or the second refresh is `invalid_grant` and the account is lost. The token endpoint is
 * slowed down so the requests really pile up behind the refresh.
 */

const PER_INSTANCE = 15;

describe('two relay instances refreshing one ChatGPT account', () => {
  let oauth: FakeOAuthServer;
  let fake: FakeOpenAI;
  let a: TestRelay;
  let b: TestRelay;
  let relayKey: string;

  beforeAll(async () => {
    oauth = await startOpenAIOAuthServer();
    fake = await startFakeOpenAI({ chatgptToken: (t) => oauth.isValidAccessToken(t) });
    ({ a, b, relayKey } = await startTwoInstances(openaiOAuthEnv(oauth, fake)));
  });

  afterEach(() => resetOAuthTest(a, oauth, fake));

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await fake?.close();
    await oauth?.close();
  });

  const ask = async (relay: TestRelay, stream: boolean) => {
    const res = await fetch(`${relay.url}/openai/v1/responses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${relayKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-6.2-sol', input: 'hi', stream }),
    });
    const text = await res.text();
    // A stream that got its answer ends with the completed response.
    return res.status === 200 && (!stream || text.includes('event: response.completed')) ? 200 : res.status;
  };
  const burst = async () =>
    (
      await Promise.all(
        [a, b].flatMap((relay) => Array.from({ length: PER_INSTANCE }, (_, i) => ask(relay, i % 2 === 0))),
      )
    ).sort();
  const tokensSeen = (from = 0) =>
    fake.requests.slice(from).map((r) => String(r.headers.authorization).replace(/^Bearer /, ''));
  const allOk = Array.from({ length: 2 * PER_INSTANCE }, () => 200);

  it('an expired token: one refresh for everybody, the rotated refresh token stored and good for the next refresh', async () => {
    const { id, tokens } = await importChatGPTAccount(a.admin, oauth, { expiresAt: Date.now() - 1000 });
    oauth.setDelay(300);

    expect(await burst()).toEqual(allOk);
    expect(oauth.requests.map((r) => [r.grant, r.status])).toEqual([['refresh_token', 200]]);
    const second = oauth.latestAccessToken(tokens.refreshToken) ?? '';
    const rotated = oauth.liveRefreshToken(tokens.refreshToken) ?? '';
    expect(rotated).not.toBe(tokens.refreshToken);
    // Nobody used the expired token.
    expect(new Set(tokensSeen())).toEqual(new Set([second]));
    for (const relay of [a, b])
      expect(await storedCredentials(relay, id)).toMatchObject({ accessToken: second, refreshToken: rotated });

    // The stored refresh token is the live one: the next refresh, on the other instance, works.
    const patched = await b.admin.request('PATCH', `/admin/accounts/${id}`, { expiresAt: String(Date.now() - 1000) });
    expect(patched.status).toBe(200);
    const from = fake.requests.length;
    expect(await burst()).toEqual(allOk);
    expect(oauth.requests.map((r) => [r.body.refresh_token, r.status])).toEqual([
      [tokens.refreshToken, 200],
      [rotated, 200],
    ]);
    const third = oauth.latestAccessToken(tokens.refreshToken) ?? '';
    expect(new Set(tokensSeen(from))).toEqual(new Set([third]));
    expect(await storedCredentials(a, id)).toMatchObject({
      accessToken: third,
      refreshToken: oauth.liveRefreshToken(tokens.refreshToken),
    });
  });

  it('a token the backend starts rejecting: many 401s on both instances, one refresh, every request answered', async () => {
    const { id, tokens } = await importChatGPTAccount(a.admin, oauth);
    for (const relay of [a, b]) expect(await ask(relay, false)).toBe(200);
    oauth.revokeAccessToken(tokens.accessToken);
    oauth.setDelay(300);
    const from = fake.requests.length;

    expect(await burst()).toEqual(allOk);
    expect(oauth.requests.map((r) => [r.grant, r.status])).toEqual([['refresh_token', 200]]);
    const second = oauth.latestAccessToken(tokens.refreshToken) ?? '';
    const used = tokensSeen(from);
    expect(used.filter((t) => t === second)).toHaveLength(2 * PER_INSTANCE);
    expect(used.every((t) => t === second || t === tokens.accessToken)).toBe(true);
    expect(await storedCredentials(b, id)).toMatchObject({
      accessToken: second,
      refreshToken: oauth.liveRefreshToken(tokens.refreshToken),
    });
  });
});
