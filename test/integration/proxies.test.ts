import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.js';
import { startFakeOAuthServer, type FakeOAuthServer } from '../fakes/oauth-server.js';
import { importOAuthAccount } from '../support/claude-oauth.js';
import { addAccount, ask, health, servedKeys } from '../support/pool.js';
import { startHttpProxy, startSocks5Proxy, type TestProxy } from '../support/proxies.js';
import { startTestRelay, type TestRelay } from '../support/relay.js';

/**
 * Per-account proxies (HTTP CONNECT and SOCKS5, both with credentials). The upstream and the
 * token endpoint are given names only the proxies can resolve (`*.test`), so an answer proves the
 * call went through the proxy: a direct call could not even find the host. Each proxy URL has its
 * own connection pool; a proxy that refuses the account's credentials is an unreachable upstream.
 */

const UPSTREAM_HOST = 'upstream.test';
const AUTH_HOST = 'auth.test';

describe('per-account proxies', () => {
  let oauth: FakeOAuthServer;
  let fake: FakeAnthropic;
  let http: TestProxy;
  let socks: TestProxy;
  let relay: TestRelay;
  /** The fake upstream as only the proxies know it. */
  let hiddenUpstream: string;

  beforeAll(async () => {
    oauth = await startFakeOAuthServer({ accessPrefix: 'sk-ant-oat01-', refreshPrefix: 'sk-ant-ort01-' });
    fake = await startFakeAnthropic({
      authorize: (token) => token.startsWith('sk-ant-pool-') || oauth.isValidAccessToken(token),
    });
    const hosts = { [UPSTREAM_HOST]: '127.0.0.1', [AUTH_HOST]: '127.0.0.1' };
    // `a.upstream.test` is known to the HTTP proxy only, `b.upstream.test` to the SOCKS5 proxy only.
    http = await startHttpProxy({
      username: 'alice',
      password: 'http-secret:!@#',
      hosts: { ...hosts, [`a.${UPSTREAM_HOST}`]: '127.0.0.1' },
    });
    socks = await startSocks5Proxy({
      username: 'bob',
      password: 's0cks-secret',
      hosts: { ...hosts, [`b.${UPSTREAM_HOST}`]: '127.0.0.1' },
    });
    hiddenUpstream = `http://${UPSTREAM_HOST}:${new URL(fake.url).port}`;
    relay = await startTestRelay({
      env: {
        CLAUDE_OAUTH_TOKEN_URL: `http://${AUTH_HOST}:${new URL(oauth.url).port}/v1/oauth/token`,
        CLAUDE_OAUTH_AUTHORIZE_URL: oauth.authorizeUrl,
        // Failing over past a refused proxy must not wait out a long cooldown in later tests.
        COOLDOWN_SERVER_ERROR: '100ms',
      },
    });
  });

  afterEach(async () => {
    fake.reset();
    await relay.admin.deleteAllAccounts();
  });

  afterAll(async () => {
    await relay?.close();
    await http?.close();
    await socks?.close();
    await fake?.close();
    await oauth?.close();
  });

  const proxies = () => ({ http, socks });
  const keyFor = async (accountId: string) =>
    (await relay.admin.createKey({ name: `bound to ${accountId}`, accountIds: [accountId] })).key;

  it.each(['http', 'socks'] as const)(
    'an API-key account behind the %s proxy reaches its upstream through it, streamed or not',
    async (kind) => {
      const proxy = proxies()[kind];
      const account = await addAccount(relay.admin, fake, `behind-${kind}`, {
        baseUrl: hiddenUpstream,
        proxy: proxy.url,
      });
      const key = await keyFor(account.id);
      const tunnels = proxy.accepted(`${UPSTREAM_HOST}:${new URL(fake.url).port}`);
      fake.setDefault({ kind: 'message', deltas: 1 });

      for (const stream of [false, true]) {
        const answer = await ask(relay.url, key, { stream });
        expect(answer.status, answer.text).toBe(200);
        expect(answer.text).toContain('Hello from the fake upstream.');
      }
      expect(servedKeys(fake)).toEqual([account.apiKey, account.apiKey]);
      expect(proxy.accepted(`${UPSTREAM_HOST}:${new URL(fake.url).port}`)).toBeGreaterThan(tunnels);
      expect(
        proxy.connections.filter((c) => c.accepted).every((c) => c.user === (kind === 'http' ? 'alice' : 'bob')),
      ).toBe(true);
    },
  );

  it('each proxy has its own connection pool: two accounts, two proxies, each kept-alive tunnel carrying only its own calls', async () => {
    const viaHttp = await addAccount(relay.admin, fake, 'via-http', {
      baseUrl: `http://a.${UPSTREAM_HOST}:${new URL(fake.url).port}`,
      proxy: http.url,
    });
    const viaSocks = await addAccount(relay.admin, fake, 'via-socks', {
      baseUrl: `http://b.${UPSTREAM_HOST}:${new URL(fake.url).port}`,
      proxy: socks.url,
    });
    const target = (sub: string) => `${sub}.${UPSTREAM_HOST}:${new URL(fake.url).port}`;
    // Only one proxy knows each name: an account sent through the other proxy could not connect.
    http.connections.length = 0;
    socks.connections.length = 0;
    const [keyHttp, keySocks] = [await keyFor(viaHttp.id), await keyFor(viaSocks.id)];

    for (let i = 0; i < 4; i++) {
      expect((await ask(relay.url, keyHttp, { stream: i % 2 === 1 })).status).toBe(200);
      expect((await ask(relay.url, keySocks, { stream: i % 2 === 0 })).status).toBe(200);
    }
    expect(servedKeys(fake)).toEqual(Array.from({ length: 4 }, () => [viaHttp.apiKey, viaSocks.apiKey]).flat());
    // Eight calls, one tunnel per proxy: each proxy's pool keeps its connection alive for its account.
    expect(http.connections).toEqual([{ target: target('a'), user: 'alice', accepted: true }]);
    expect(socks.connections).toEqual([{ target: target('b'), user: 'bob', accepted: true }]);
  });

  it.each(['http', 'socks'] as const)(
    'an OAuth account behind the %s proxy refreshes its token through it too',
    async (kind) => {
      const proxy = proxies()[kind];
      const { tokens } = await importOAuthAccount(relay.admin, oauth, hiddenUpstream, {
        expiresAt: Date.now() - 1000,
        settings: { proxy: proxy.url },
      });
      const refreshes = oauth.refreshCalls(200);
      const tunnelsToAuth = proxy.accepted(`${AUTH_HOST}:${new URL(oauth.url).port}`);

      const answer = await ask(relay.url, (await relay.admin.createKey({ name: 'oauth via proxy' })).key);
      expect(answer.status, answer.text).toBe(200);
      expect(oauth.refreshCalls(200)).toBe(refreshes + 1);
      expect(proxy.accepted(`${AUTH_HOST}:${new URL(oauth.url).port}`)).toBe(tunnelsToAuth + 1);
      expect(servedKeys(fake)).toEqual([oauth.latestAccessToken(tokens.refreshToken)]);
    },
  );

  it('the PKCE code exchange goes through the proxy given for the new account', async () => {
    const exchange = async (body: Record<string, unknown>) => {
      const start = await relay.admin.request<{ sessionId: string; authorizationUrl: string }>(
        'POST',
        '/admin/oauth/claude/start',
        {},
      );
      const callback = (await fetch(start.body.authorizationUrl, { redirect: 'manual' })).headers.get('location') ?? '';
      return relay.admin.request<Record<string, unknown>>('POST', '/admin/oauth/claude/exchange', {
        sessionId: start.body.sessionId,
        code: callback,
        ...body,
      });
    };
    // Without the proxy the token endpoint's name cannot even be resolved.
    const direct = await exchange({ name: 'direct' });
    expect(direct.status).toBe(400);
    expect(JSON.stringify(direct.body)).toContain('refused');

    const exchanges = oauth.requests.filter((r) => r.grant === 'authorization_code').length;
    const res = await exchange({ name: 'via socks', proxy: socks.url, baseUrl: hiddenUpstream });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    // (The tunnel to the token endpoint may be one the proxy's pool kept alive from a refresh.)
    expect(socks.accepted(`${AUTH_HOST}:${new URL(oauth.url).port}`)).toBeGreaterThanOrEqual(1);
    expect(oauth.requests.filter((r) => r.grant === 'authorization_code' && r.status === 200)).toHaveLength(
      exchanges + 1,
    );
    expect(res.body).toMatchObject({ type: 'oauth', proxy: `socks5://bob:***@127.0.0.1:${socks.port}` });
    expect(JSON.stringify(res.body)).not.toContain('s0cks-secret');

    // The new account answers through the same proxy.
    const answer = await ask(relay.url, (await relay.admin.createKey({ name: 'pkce via proxy' })).key);
    expect(answer.status, answer.text).toBe(200);
    expect(servedKeys(fake)).toHaveLength(1);
    expect(oauth.isValidAccessToken(servedKeys(fake)[0] ?? '')).toBe(true);
  });

  it.each(['http', 'socks'] as const)(
    'a wrong %s proxy password fails over like an unreachable upstream',
    async (kind) => {
      const proxy = proxies()[kind];
      const refused = await addAccount(relay.admin, fake, `wrong-${kind}-password`, {
        proxy: proxy.withPassword('not-the-password'),
        priority: 1,
      });
      const backup = await addAccount(relay.admin, fake, 'direct backup', { priority: 90 });
      const rejectedBefore = proxy.rejected();

      const answer = await ask(relay.url, (await relay.admin.createKey({ name: `wrong ${kind} password` })).key);
      expect(answer.status, answer.text).toBe(200);
      expect(servedKeys(fake)).toEqual([backup.apiKey]);
      expect(proxy.rejected()).toBeGreaterThan(rejectedBefore);
      const h = await health(relay.admin, refused.id);
      expect(h.blockers.map((b) => b.reason)).toEqual(['unreachable']);
      // The proxy's password never shows in the admin API.
      const view = await relay.admin.request('GET', `/admin/accounts/${refused.id}`);
      expect(JSON.stringify(view.body)).not.toContain('not-the-password');
      expect(view.body).toMatchObject({
        proxy: `${kind === 'http' ? 'http' : 'socks5'}://${kind === 'http' ? 'alice' : 'bob'}:***@127.0.0.1:${proxy.port}`,
      });
    },
  );
});
