import type { FakeOAuthServer, IssuedTokens } from '../fakes/oauth-server.js';
import type { AdminClient } from './relay.js';

/** Relay settings pointing Claude's OAuth at a fake authorization server. */
export function claudeOAuthEnv(oauth: FakeOAuthServer): Record<string, string> {
  return { CLAUDE_OAUTH_AUTHORIZE_URL: oauth.authorizeUrl, CLAUDE_OAUTH_TOKEN_URL: oauth.tokenUrl };
}

/** Claude's token endpoint also says who signed in. */
export const CLAUDE_TOKEN_FIELDS = () => ({
  scope: 'user:inference user:profile',
  account: { uuid: '5b8f3a8e-0000-4000-8000-000000000001', email_address: 'max.user@example.com' },
  organization: { uuid: '5b8f3a8e-0000-4000-8000-0000000000aa', name: 'Example Org' },
});

export interface OAuthAccount {
  id: string;
  tokens: IssuedTokens;
}

/**
 * Imports a token pair the fake issued as a Claude OAuth account. `expiresAt` is what the relay
 * is told (in the past = expired as far as the relay knows), whatever the fake thinks.
 */
export async function importOAuthAccount(
  admin: AdminClient,
  oauth: FakeOAuthServer,
  baseUrl: string,
  opts: { name?: string; expiresAt?: number; settings?: Record<string, unknown>; tokens?: IssuedTokens } = {},
): Promise<OAuthAccount> {
  const tokens = opts.tokens ?? oauth.issue();
  const res = await admin.request<{ id: string }>('POST', '/admin/accounts', {
    platform: 'claude',
    type: 'oauth',
    name: opts.name ?? 'claude max',
    baseUrl,
    accessToken: tokens.accessToken,
    refreshToken: tokens.refreshToken,
    expiresAt: String(opts.expiresAt ?? tokens.expiresAt),
    ...opts.settings,
  });
  if (res.status !== 201) throw new Error(`import: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.id, tokens };
}
