import { describe, expect, it } from 'vitest';
import { CredentialsRejected } from '../../accounts/oauth/tokens.js';
import type { Account } from '../../accounts/service.js';
import { loadConfig } from '../../config/index.js';
import type { Upstream, UpstreamResponse } from '../../upstream/types.js';
import { manualClock } from '../../util/clock.js';
import { silentLogger } from '../../util/log.js';
import type { ProviderDeps } from '../types.js';
import type { UpstreamRequest } from '../../upstream/types.js';
import { createClaudeOAuth } from './oauth.js';

const TOKEN_URL = 'https://auth.example/v1/oauth/token';
const NOW = Date.parse('2026-11-27T12:00:00Z');

/** A token endpoint answering `status` with `body`, recording what it was sent. */
function endpoint(status: number, body: unknown) {
  const sent: UpstreamRequest[] = [];
  const http: Upstream = {
    send: async (req) => {
      sent.push(req);
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      return { statusCode: status, headers: {}, body: { text: async () => text } } as unknown as UpstreamResponse;
    },
    close: async () => {},
  };
  const deps = {
    config: loadConfig({ CLAUDE_OAUTH_TOKEN_URL: TOKEN_URL }),
    clock: manualClock(NOW),
    log: silentLogger,
    http,
  } as unknown as ProviderDeps;
  return {
    oauth: createClaudeOAuth(deps),
    sent,
    json: () => JSON.parse(String(sent[0]?.body)) as Record<string, string>,
  };
}

const account = (credentials: Record<string, string>) =>
  ({ id: 'a_0000000000000001', credentials }) as unknown as Account;

describe('Claude OAuth flow', () => {
  it("builds the authorization URL Claude Code builds, with the caller's state and S256 challenge", () => {
    const url = new URL(endpoint(200, {}).oauth.flow.authorizationUrl({ state: 'st4te', codeChallenge: 'ch4llenge' }));
    expect(url.origin + url.pathname).toBe('https://claude.ai/oauth/authorize');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      code: 'true',
      client_id: '9d1c250a-e61b-44d9-88ed-5944d1962f5e',
      response_type: 'code',
      redirect_uri: 'https://platform.claude.com/oauth/code/callback',
      scope:
        'org:create_api_key user:profile user:inference user:sessions:claude_code user:mcp_servers user:file_upload',
      code_challenge: 'ch4llenge',
      code_challenge_method: 'S256',
      state: 'st4te',
    });
  });

  it('exchanges a code with a JSON POST and names the account after who signed in', async () => {
    const e = endpoint(200, {
      access_token: 'sk-ant-oat01-a',
      refresh_token: 'sk-ant-ort01-r',
      expires_in: 28800,
      account: { email_address: 'max@example.com' },
    });
    const tokens = await e.oauth.flow.exchange({ code: 'c0de', codeVerifier: 'v3rifier', state: 'st4te' });
    expect(tokens).toEqual({
      accessToken: 'sk-ant-oat01-a',
      refreshToken: 'sk-ant-ort01-r',
      expiresAt: NOW + 28_800_000,
    });
    expect(e.sent[0]).toMatchObject({
      url: TOKEN_URL,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
    });
    expect(e.sent[0]?.proxy).toBeUndefined();
    expect(e.json()).toEqual({
      grant_type: 'authorization_code',
      code: 'c0de',
      redirect_uri: 'https://platform.claude.com/oauth/code/callback',
      client_id: '9d1c250a-e61b-44d9-88ed-5944d1962f5e',
      code_verifier: 'v3rifier',
      state: 'st4te',
    });
    expect(await e.oauth.flow.describe?.(tokens)).toEqual({ name: 'max@example.com' });
    await e.oauth.flow.exchange({ code: 'c0de2', codeVerifier: 'v', state: 's', proxy: 'http://u:p@10.0.0.2:3128' });
    expect(e.sent[1]?.proxy).toBe('http://u:p@10.0.0.2:3128');
    expect(await e.oauth.flow.describe?.({ ...tokens })).toEqual({});
  });

  it("refreshes with the user scopes, through the account's proxy", async () => {
    const e = endpoint(200, {
      access_token: 'sk-ant-oat01-b',
      refresh_token: 'sk-ant-ort01-rotated',
      expires_in: 3600,
    });
    const tokens = await e.oauth.refresh('sk-ant-ort01-old', account({ proxy: 'socks5://u:p@10.0.0.1:1080' }));
    expect(tokens).toEqual({
      accessToken: 'sk-ant-oat01-b',
      refreshToken: 'sk-ant-ort01-rotated',
      expiresAt: NOW + 3_600_000,
    });
    expect(e.sent[0]?.proxy).toBe('socks5://u:p@10.0.0.1:1080');
    expect(e.json()).toEqual({
      grant_type: 'refresh_token',
      refresh_token: 'sk-ant-ort01-old',
      client_id: '9d1c250a-e61b-44d9-88ed-5944d1962f5e',
      scope: 'user:profile user:inference user:sessions:claude_code user:mcp_servers user:file_upload',
    });
  });

  it('a refresh answer without a refresh token leaves the old one in place (no refreshToken in the set)', async () => {
    const tokens = await endpoint(200, { access_token: 'sk-ant-oat01-c', expires_in: 60 }).oauth.refresh(
      'sk-ant-ort01-kept',
      account({}),
    );
    expect(tokens).toEqual({ accessToken: 'sk-ant-oat01-c', expiresAt: NOW + 60_000 });
  });

  it.each<[string, number, unknown, boolean]>([
    [
      'invalid_grant (revoked or rotated away) is final',
      400,
      { error: 'invalid_grant', error_description: 'Refresh token not found or invalid' },
      true,
    ],
    ['invalid_grant with 401 is final too', 401, { error: 'invalid_grant' }, true],
    [
      "a malformed request is not the account's fault",
      400,
      { error: 'invalid_request', error_description: 'Invalid request format' },
      false,
    ],
    ['an unknown client is a configuration problem', 401, { error: 'invalid_client' }, false],
    ['an outage', 503, 'upstream connect error', false],
    ['a 200 without a token', 200, { token_type: 'Bearer' }, false],
    ['a 200 without a lifetime', 200, { access_token: 'sk-ant-oat01-d' }, false],
    ['a 200 that is not JSON', 200, '<html>', false],
  ])('%s', async (_name, status, body, final) => {
    const err = await endpoint(status, body)
      .oauth.refresh('sk-ant-ort01-secret', account({}))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err instanceof CredentialsRejected).toBe(final);
    expect((err as Error).message).not.toContain('sk-ant-ort01-secret');
  });
});
