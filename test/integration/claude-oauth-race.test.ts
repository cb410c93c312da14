import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.js';
import { startFakeOAuthServer, type FakeOAuthServer } from '../fakes/oauth-server.js';
import { CLAUDE_TOKEN_FIELDS, claudeOAuthEnv, importOAuthAccount } from '../support/claude-oauth.js';
import { ask, patch, servedKeys, until } from '../support/pool.js';
import { resetOAuthTest, startTwoInstances } from '../support/oauth.js';
import { storedCredentials, type TestRelay } from '../support/relay.js';

/**
 * The classic rotating-refresh-token bug: two relay instances (one deployment: one Redis prefix)
 * find one OAuth account's token expired, or rejected, at the same moment, under many concurrent
 * requests. Exactly one of them may call the token endpoint; everybody else must use what it
 * stored. Otherwise the second refresh spends an already-rotated token (invalid_grant) and the
 * account is lost. The token endpoint is slowed down so the requests really pile up behind it.
 */

const PER_INSTANCE = 20;

describe('two relay instances refreshing one Claude OAuth account', () => {
  let oauth: FakeOAuthServer;
  let fake: FakeAnthropic;
  let a: TestRelay;
  let b: TestRelay;
  let relayKey: string;

  beforeAll(async () => {
    oauth = await startFakeOAuthServer({
      accessPrefix: 'sk-ant-oat01-',
      refreshPrefix: 'sk-ant-ort01-',
      responseFields: CLAUDE_TOKEN_FIELDS,
    });
    fake = await startFakeAnthropic({ authorize: (token) => oauth.isValidAccessToken(token) });
    ({ a, b, relayKey } = await startTwoInstances(claudeOAuthEnv(oauth)));
  });

  afterEach(() => resetOAuthTest(a, oauth, fake));

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await fake?.close();
    await oauth?.close();
  });

  /** PER_INSTANCE requests through each instance at once, streamed and not; every status. */
  const burst = async () => {
    const calls = [a, b].flatMap((relay) =>
      Array.from({ length: PER_INSTANCE }, (_, i) => ask(relay.url, relayKey, { stream: i % 2 === 0 })),
    );
    return (await Promise.all(calls)).map((r) => r.status);
  };

  it('an expired token: one refresh for everybody, the rotated refresh token stored, and it works for the next refresh', async () => {
    const { id, tokens } = await importOAuthAccount(a.admin, oauth, fake.url, { expiresAt: Date.now() - 1000 });
    oauth.setDelay(300);

    expect(await burst()).toEqual(Array.from({ length: 2 * PER_INSTANCE }, () => 200));
    expect(oauth.requests.map((r) => [r.grant, r.status])).toEqual([['refresh_token', 200]]);
    const second = oauth.latestAccessToken(tokens.refreshToken) ?? '';
    const rotated = oauth.liveRefreshToken(tokens.refreshToken) ?? '';
    expect(second).not.toBe(tokens.accessToken);
    expect(rotated).not.toBe(tokens.refreshToken);
    // Nobody used the expired token, and nothing but the new one reached the upstream.
    expect(new Set(servedKeys(fake))).toEqual(new Set([second]));
    expect(fake.requests).toHaveLength(2 * PER_INSTANCE);

    // Both instances, and Redis, hold the new pair.
    for (const relay of [a, b])
      expect(await storedCredentials(relay, id)).toMatchObject({ accessToken: second, refreshToken: rotated });
    for (const relay of [a, b]) {
      expect((await ask(relay.url, relayKey)).status).toBe(200);
      expect(servedKeys(fake).at(-1)).toBe(second);
    }
    expect(oauth.refreshCalls()).toBe(1);

    // The rotated refresh token is the live one: the next refresh (forced by an expiry) succeeds.
    const expiresAt = String(Date.now() - 1000);
    await patch(b.admin, `/admin/accounts/${id}`, { expiresAt });
    // The change was made on b; a obeys it once the invalidation reaches it (pub/sub, milliseconds):
    // wait for a's scheduling snapshot (what its requests read), not for Redis (already changed).
    await until('a to see the new expiry', async () => {
      const seen = (await a.instance.deps.accounts.snapshot()).find((acc) => acc.id === id);
      return seen?.credentials.expiresAt === expiresAt;
    });
    const from = fake.requests.length;
    expect(await burst()).toEqual(Array.from({ length: 2 * PER_INSTANCE }, () => 200));
    expect(oauth.requests.map((r) => [r.body.refresh_token, r.status])).toEqual([
      [tokens.refreshToken, 200],
      [rotated, 200],
    ]);
    const third = oauth.latestAccessToken(tokens.refreshToken) ?? '';
    expect(new Set(servedKeys(fake, from))).toEqual(new Set([third]));
    expect(await storedCredentials(a, id)).toMatchObject({
      accessToken: third,
      refreshToken: oauth.liveRefreshToken(tokens.refreshToken),
    });
  });

  it('a refresh that fails on the way leaves the refresh token usable: the next in line refreshes with it, never invalid_grant', async () => {
    const { id, tokens } = await importOAuthAccount(a.admin, oauth, fake.url, { expiresAt: Date.now() - 1000 });
    oauth.setDelay(300);
    oauth.failNext({ status: 502, body: 'bad gateway' });

    const statuses = await burst();
    // Only the request whose refresh failed goes without an answer (the account has no peer here).
    expect(statuses.filter((s) => s === 200)).toHaveLength(2 * PER_INSTANCE - 1);
    expect(oauth.requests.map((r) => [r.body.refresh_token, r.status])).toEqual([
      [tokens.refreshToken, 502],
      [tokens.refreshToken, 200],
    ]);
    const second = oauth.latestAccessToken(tokens.refreshToken) ?? '';
    expect(new Set(servedKeys(fake))).toEqual(new Set([second]));
    expect(await storedCredentials(b, id)).toMatchObject({
      accessToken: second,
      refreshToken: oauth.liveRefreshToken(tokens.refreshToken),
    });
  });

  it('a token the upstream starts rejecting: many 401s on both instances, one refresh, every request answered', async () => {
    const { id, tokens } = await importOAuthAccount(a.admin, oauth, fake.url);
    // Both instances have used (and cached) the account with its first token.
    for (const relay of [a, b]) expect((await ask(relay.url, relayKey)).status).toBe(200);
    oauth.revokeAccessToken(tokens.accessToken);
    oauth.setDelay(300);
    const from = fake.requests.length;

    expect(await burst()).toEqual(Array.from({ length: 2 * PER_INSTANCE }, () => 200));
    expect(oauth.requests.map((r) => [r.grant, r.status])).toEqual([['refresh_token', 200]]);
    const second = oauth.latestAccessToken(tokens.refreshToken) ?? '';
    // Requests sent before the refresh met a 401 and were retried once, with the new token.
    const used = servedKeys(fake, from);
    expect(used.filter((k) => k === second)).toHaveLength(2 * PER_INSTANCE);
    expect(used.every((k) => k === second || k === tokens.accessToken)).toBe(true);
    expect(await storedCredentials(b, id)).toMatchObject({
      accessToken: second,
      refreshToken: oauth.liveRefreshToken(tokens.refreshToken),
    });
  });
});
