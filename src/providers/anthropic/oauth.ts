import type { OAuthFlow } from '../../accounts/oauth/flow.js';
import { tokenEndpoint } from '../../accounts/oauth/token-endpoint.js';
import type { Refresher, TokenSet } from '../../accounts/oauth/tokens.js';
import type { ClaudeOAuthConfig } from '../../config/index.js';
import type { ProviderDeps } from '../types.js';

/** What Claude's token endpoint answers a code exchange besides the tokens: who signed in. */
interface SignedIn {
  account?: { uuid?: string; email_address?: string };
  organization?: { uuid?: string; name?: string };
}

/**
 * A refresh holds the account's lock (30 s) while it waits for the token endpoint; it must give up
 * well before the lock expires, or a second refresher could spend the refresh token we just spent.
 */
const TOKEN_TIMEOUT_MS = 20_000;
/** Claude Code talks to the token endpoint; we present ourselves the same way. */
const USER_AGENT = 'claude-cli/2.1.332 (external, cli)';

/**
 * Claude's OAuth (Pro/Max subscriptions, Claude Code's login): the PKCE authorization URL, the
 * code exchange, and refreshes. Every call is a JSON POST to the configured token endpoint; a
 * refresh goes through the account's proxy, like its inference calls. `invalid_grant` (the refresh
 * token was revoked or rotated away) is final: CredentialsRejected; anything else (5xx, network,
 * a malformed answer) may pass, and leaves the stored tokens alone.
 */
export function createClaudeOAuth(deps: ProviderDeps): { flow: OAuthFlow; refresh: Refresher } {
  const cfg: ClaudeOAuthConfig = deps.config.claudeOAuth;
  // Claude Code asks for the user scopes on refresh; org:create_api_key is for the first grant only.
  const refreshScope = cfg.scopes.filter((s) => s.startsWith('user:')).join(' ');
  // Who signed in, from the exchange's answer, for naming the account (never stored with the tokens).
  const signedIn = new WeakMap<TokenSet, { email?: string; organization?: string }>();

  const tokenCall = tokenEndpoint(deps, {
    url: cfg.tokenUrl,
    timeoutMs: TOKEN_TIMEOUT_MS,
    headers: { 'user-agent': USER_AGENT },
  });

  const refresh = async (refreshToken: string, proxy: string | undefined): Promise<TokenSet> =>
    (
      await tokenCall(
        'json',
        { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: cfg.clientId, scope: refreshScope },
        proxy,
      )
    ).tokens;

  const flow: OAuthFlow = {
    platform: 'claude',
    type: 'oauth',

    authorizationUrl({ state, codeChallenge }) {
      const url = new URL(cfg.authorizeUrl);
      // `code=true` makes the redirect page show the code for pasting (`code#state`).
      url.searchParams.set('code', 'true');
      url.searchParams.set('client_id', cfg.clientId);
      url.searchParams.set('response_type', 'code');
      url.searchParams.set('redirect_uri', cfg.redirectUri);
      url.searchParams.set('scope', cfg.scopes.join(' '));
      url.searchParams.set('code_challenge', codeChallenge);
      url.searchParams.set('code_challenge_method', 'S256');
      url.searchParams.set('state', state);
      return url.toString();
    },

    async exchange({ code, codeVerifier, state, proxy }) {
      const { tokens, body } = await tokenCall(
        'json',
        {
          grant_type: 'authorization_code',
          code,
          redirect_uri: cfg.redirectUri,
          client_id: cfg.clientId,
          code_verifier: codeVerifier,
          state,
        },
        proxy,
      );
      const who = body as SignedIn;
      signedIn.set(tokens, { email: who.account?.email_address, organization: who.organization?.name });
      return tokens;
    },

    refresh: (refreshToken) => refresh(refreshToken, undefined),

    async describe(tokens) {
      const who = signedIn.get(tokens);
      const name = who?.email ?? who?.organization;
      return name ? { name: name.slice(0, 100) } : {};
    },
  };

  return { flow, refresh: (refreshToken, account) => refresh(refreshToken, account.credentials.proxy) };
}
