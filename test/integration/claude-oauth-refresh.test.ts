import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AccountId } from '../../src/ids.js';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.js';
import { startFakeOAuthServer, type FakeOAuthServer } from '../fakes/oauth-server.js';
import { CLAUDE_TOKEN_FIELDS, claudeOAuthEnv, importOAuthAccount } from '../support/claude-oauth.js';
import { resetOAuthTest } from '../support/oauth.js';
import { addAccount, ask, health, resetAccount, servedKeys, type PoolAccount } from '../support/pool.js';
import { startTestRelay, storedCredentials, type TestRelay } from '../support/relay.js';

/**
 * Token refresh of Claude OAuth accounts: shortly before expiry, after a 401, and when the
 * authorization server refuses (invalid_grant: out until an admin acts, the request fails over)
 * or is down (a short cooldown, the request fails over, the stored tokens stay as they were).
 */

const CLIENT_ID = '9d1c250a-e61b-44d9-88ed-5944d1962f5e';
const USER_SCOPES = 'user:profile user:inference user:sessions:claude_code user:mcp_servers user:file_upload';
const MINUTE = 60_000;

describe('Claude OAuth token refresh', () => {
  let oauth: FakeOAuthServer;
  let fake: FakeAnthropic;
  let relay: TestRelay;
  let relayKey: string;
  let keyId: string;
  let backup: PoolAccount;

  beforeAll(async () => {
    oauth = await startFakeOAuthServer({
      clientId: CLIENT_ID,
      accessPrefix: 'sk-ant-oat01-',
      refreshPrefix: 'sk-ant-ort01-',
      responseFields: CLAUDE_TOKEN_FIELDS,
    });
    fake = await startFakeAnthropic({
      authorize: (token) => token.startsWith('sk-ant-pool-') || oauth.isValidAccessToken(token),
    });
    relay = await startTestRelay({ env: claudeOAuthEnv(oauth) });
    ({ key: relayKey, id: keyId } = await relay.admin.createKey({ name: 'refresh tests' }));
  });

  afterEach(() => resetOAuthTest(relay, oauth, fake));

  afterAll(async () => {
    await relay?.close();
    await fake?.close();
    await oauth?.close();
  });

  /** The OAuth account is preferred; an API-key account in a later tier takes what fails over. */
  const withBackup = async () => {
    backup = await addAccount(relay.admin, fake, 'backup', { priority: 90 });
  };

  it('refreshes a token that expires within minutes, once, and stores the rotated refresh token', async () => {
    const { id, tokens } = await importOAuthAccount(relay.admin, oauth, fake.url, {
      expiresAt: Date.now() + 2 * MINUTE,
    });

    const answer = await ask(relay.url, relayKey);
    expect(answer.status, answer.text).toBe(200);

    // One refresh, as Claude Code sends it: JSON with the refresh token, client id and user scopes.
    expect(oauth.requests).toHaveLength(1);
    expect(oauth.requests[0]).toMatchObject({
      grant: 'refresh_token',
      status: 200,
      body: {
        grant_type: 'refresh_token',
        refresh_token: tokens.refreshToken,
        client_id: CLIENT_ID,
        scope: USER_SCOPES,
      },
    });
    expect(oauth.requests[0]?.contentType).toContain('application/json');

    const rotated = oauth.liveRefreshToken(tokens.refreshToken) ?? '';
    const fresh = oauth.latestAccessToken(tokens.refreshToken) ?? '';
    expect(rotated).not.toBe(tokens.refreshToken);
    const creds = await storedCredentials(relay, id);
    expect(creds).toMatchObject({ accessToken: fresh, refreshToken: rotated });
    expect(Number(creds.expiresAt)).toBeGreaterThan(Date.now() + 59 * MINUTE);
    expect(servedKeys(fake)).toEqual([fresh]);

    // The new token is good for an hour: no further refresh.
    expect((await ask(relay.url, relayKey)).status).toBe(200);
    expect((await ask(relay.url, relayKey, { stream: true })).status).toBe(200);
    expect(oauth.refreshCalls()).toBe(1);
    expect(servedKeys(fake)).toEqual([fresh, fresh, fresh]);
  });

  it('does not refresh a token with more than the skew left', async () => {
    const { tokens } = await importOAuthAccount(relay.admin, oauth, fake.url, { expiresAt: Date.now() + 6 * MINUTE });
    expect((await ask(relay.url, relayKey)).status).toBe(200);
    expect(oauth.refreshCalls()).toBe(0);
    expect(servedKeys(fake)).toEqual([tokens.accessToken]);
  });

  it('refreshes an imported token of unknown expiry at its first use, and learns the expiry', async () => {
    const tokens = oauth.issue();
    const res = await relay.admin.request<{ id: string }>('POST', '/admin/accounts', {
      platform: 'claude',
      type: 'oauth',
      name: 'no expiry given',
      baseUrl: fake.url,
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken,
    });
    expect(res.status).toBe(201);
    expect((await ask(relay.url, relayKey)).status).toBe(200);
    expect(oauth.refreshCalls(200)).toBe(1);
    expect(servedKeys(fake)).toEqual([oauth.latestAccessToken(tokens.refreshToken)]);
    expect(Number((await storedCredentials(relay, res.body.id)).expiresAt)).toBeGreaterThan(Date.now() + 59 * MINUTE);
  });

  it('after a 401 refreshes and retries the same account once; the client never sees the 401', async () => {
    const { id, tokens } = await importOAuthAccount(relay.admin, oauth, fake.url);
    oauth.revokeAccessToken(tokens.accessToken);
    const before = (await relay.admin.keyUsage(keyId)).total;

    const answer = await ask(relay.url, relayKey, { stream: true });
    expect(answer.status, answer.text).toBe(200);

    const fresh = oauth.latestAccessToken(tokens.refreshToken) ?? '';
    expect(servedKeys(fake)).toEqual([tokens.accessToken, fresh]);
    expect(oauth.refreshCalls(200)).toBe(1);
    expect(await storedCredentials(relay, id)).toMatchObject({
      accessToken: fresh,
      refreshToken: oauth.liveRefreshToken(tokens.refreshToken),
    });
    const h = await health(relay.admin, id);
    expect(h.blockers).toEqual([]);
    const after = (await relay.admin.keyUsage(keyId)).total;
    expect(after.requests - before.requests).toBe(1);
    expect(after.errors - before.errors).toBe(0);
  });

  it('after a 401 for a token another node has already replaced, uses theirs and writes nothing', async () => {
    const { id, tokens } = await importOAuthAccount(relay.admin, oauth, fake.url);
    const provider = relay.instance.deps.providers.get('claude');
    const stale = await relay.instance.deps.accounts.get(id as AccountId);
    if (!provider?.recoverUnauthorized || !stale) throw new Error('no claude provider or account');

    // Another node refreshed (its request hit a 401 first); this one still holds the old account.
    oauth.revokeAccessToken(tokens.accessToken);
    expect((await ask(relay.url, relayKey)).status).toBe(200);
    expect(oauth.refreshCalls()).toBe(1);
    const stored = await storedCredentials(relay, id);
    const raw = await relay.instance.store.redis.hget(
      relay.instance.store.keys.account(id as AccountId),
      'credentials',
    );

    expect(await provider.recoverUnauthorized(stale, tokens.accessToken)).toBe(true);
    expect(oauth.refreshCalls()).toBe(1);
    expect(await storedCredentials(relay, id)).toEqual(stored);
    // Not even re-encrypted: the stored blob is byte for byte what the other node wrote.
    expect(
      await relay.instance.store.redis.hget(relay.instance.store.keys.account(id as AccountId), 'credentials'),
    ).toBe(raw);
  });

  it('a refresh refused with invalid_grant after a 401 marks the account unauthorized, keeps its tokens, and the request fails over', async () => {
    await withBackup();
    const { id, tokens } = await importOAuthAccount(relay.admin, oauth, fake.url, { settings: { priority: 1 } });
    const before = await storedCredentials(relay, id);
    oauth.revokeFamily(tokens.refreshToken);

    const answer = await ask(relay.url, relayKey);
    expect(answer.status, answer.text).toBe(200);
    expect(servedKeys(fake)).toEqual([tokens.accessToken, backup.apiKey]);
    expect(oauth.requests.map((r) => [r.grant, r.status, r.error])).toEqual([['refresh_token', 400, 'invalid_grant']]);
    expect(await storedCredentials(relay, id)).toEqual(before);

    const h = await health(relay.admin, id);
    expect(h.routable).toBe(false);
    expect(h.blockers.map((b) => b.reason)).toContain('unauthorized');

    // Out of rotation: the next request goes straight to the backup, no refresh attempted.
    expect((await ask(relay.url, relayKey)).status).toBe(200);
    expect(servedKeys(fake).at(-1)).toBe(backup.apiKey);
    expect(oauth.refreshCalls()).toBe(1);
  });

  it('an expired token whose refresh is refused marks the account unauthorized before any upstream call, and the request fails over', async () => {
    await withBackup();
    const { id, tokens } = await importOAuthAccount(relay.admin, oauth, fake.url, {
      expiresAt: Date.now() - MINUTE,
      settings: { priority: 1 },
    });
    const before = await storedCredentials(relay, id);
    oauth.revokeFamily(tokens.refreshToken);

    const answer = await ask(relay.url, relayKey, { stream: true });
    expect(answer.status, answer.text).toBe(200);
    expect(servedKeys(fake)).toEqual([backup.apiKey]);
    expect(oauth.refreshCalls(400)).toBe(1);
    expect(await storedCredentials(relay, id)).toEqual(before);
    const h = await health(relay.admin, id);
    expect(h.blockers).toEqual([
      expect.objectContaining({
        reason: 'unauthorized',
        until: null,
        detail: expect.stringContaining('invalid_grant'),
      }),
    ]);
  });

  it('a token endpoint that fails cools the account down briefly, keeps its tokens, fails the request over; the same refresh token works later', async () => {
    await withBackup();
    const { id, tokens } = await importOAuthAccount(relay.admin, oauth, fake.url, {
      expiresAt: Date.now() - MINUTE,
      settings: { priority: 1 },
    });
    const before = await storedCredentials(relay, id);
    oauth.failNext({ status: 503, body: 'upstream connect error' });

    const answer = await ask(relay.url, relayKey);
    expect(answer.status, answer.text).toBe(200);
    expect(servedKeys(fake)).toEqual([backup.apiKey]);
    expect(await storedCredentials(relay, id)).toEqual(before);
    const h = await health(relay.admin, id);
    expect(h.blockers.map((b) => b.reason)).toEqual(['server_error']);
    expect(h.blockers[0]?.until).not.toBeNull();

    await resetAccount(relay.admin, id);
    expect((await ask(relay.url, relayKey)).status).toBe(200);
    const fresh = oauth.latestAccessToken(tokens.refreshToken);
    expect(servedKeys(fake).at(-1)).toBe(fresh);
    expect(oauth.requests.map((r) => [r.body.refresh_token, r.status])).toEqual([
      [tokens.refreshToken, 503],
      [tokens.refreshToken, 200],
    ]);
  });
});
