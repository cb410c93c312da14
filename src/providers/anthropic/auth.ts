import type { Refresher } from '../../accounts/oauth/tokens.js';
import type { Account } from '../../accounts/service.js';
import type { ProviderDeps } from '../types.js';

/** The beta Anthropic's API requires for OAuth bearer tokens. */
export const OAUTH_BETA = 'oauth-2025-04-20';

/** The client's `anthropic-beta` list with `beta` added once (the client's betas are kept, in order). */
export function withBeta(clientBetas: string | undefined, beta: string): string {
  const betas = (clientBetas ?? '')
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  return [...new Set([...betas, beta])].join(',');
}

/**
 * How a Claude account proves itself upstream: an API key in `x-api-key`, or an OAuth bearer
 * token (refreshed before it expires, under the account's lock) with the OAuth beta.
 */
export function createClaudeAuth(deps: Pick<ProviderDeps, 'tokens' | 'log'>, refresh: Refresher) {
  const canRefresh = (account: Account) => account.type === 'oauth' && !!account.credentials.refreshToken;

  return {
    /** Sets the auth headers; returns the OAuth token used (to tell a stale one after a 401). */
    async apply(account: Account, headers: Record<string, string>): Promise<string | undefined> {
      if (account.type !== 'oauth') {
        headers['x-api-key'] = account.credentials.apiKey ?? '';
        return undefined;
      }
      // Without a refresh token (an imported long-lived token) the access token is all there is:
      // send it until the upstream rejects it, rather than failing it on its own stated expiry.
      const token = canRefresh(account)
        ? await deps.tokens.accessToken(account, refresh)
        : (account.credentials.accessToken ?? '');
      headers.authorization = `Bearer ${token}`;
      headers['anthropic-beta'] = withBeta(headers['anthropic-beta'], OAUTH_BETA);
      return token;
    },

    /**
     * After a 401 for `usedToken`: true when the account now holds another token worth one more
     * try. Never throws: a failed refresh leaves the 401 to be handled like any other (a rejected
     * refresh token has already marked the account unauthorized).
     */
    async recover(account: Account, usedToken: string | undefined): Promise<boolean> {
      if (!canRefresh(account) || usedToken === undefined) return false;
      try {
        return await deps.tokens.recover(account, usedToken, refresh);
      } catch (err) {
        deps.log.warn('oauth recovery after a 401 failed', { accountId: account.id, err });
        return false;
      }
    },
  };
}
