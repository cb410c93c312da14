import type { OAuthFlow } from '../../accounts/oauth/flow.js';
import { tokenEndpoint } from '../../accounts/oauth/token-endpoint.js';
import type { Refresher, TokenSet } from '../../accounts/oauth/tokens.js';
import type { GoogleConfig } from '../../config/index.js';
import type { ProviderDeps } from '../types.js';

/** Gemini CLI's scopes: Code Assist needs cloud-platform; the email names the account. */
export const GOOGLE_SCOPES = [
  'https://www.googleapis.com/auth/cloud-platform',
  'https://www.googleapis.com/auth/userinfo.email',
  'https://www.googleapis.com/auth/userinfo.profile',
];

/** The token endpoint can be slow; a refresh holds the account's lock meanwhile. */
const TOKEN_TIMEOUT_MS = 30_000;

/**
 * Google's OAuth for Code Assist accounts, as Gemini CLI logs in: PKCE with `access_type=offline`
 * (a refresh token) and `prompt=consent` (one even when the user consented before). Token calls
 * are form-encoded POSTs with the installed-app client's id and secret; a refresh goes through the
 * account's proxy. `invalid_grant` (revoked, expired) is final: CredentialsRejected; anything else
 * may pass, and leaves the stored tokens alone.
 */
export function createGoogleOAuth(
  deps: ProviderDeps,
  describeProject: (accessToken: string) => Promise<string | undefined>,
): { flow: OAuthFlow; refresh: Refresher } {
  const cfg: GoogleConfig['oauth'] = deps.config.google.oauth;
  // Who signed in (from the exchange's id token), for naming the account; never stored.
  const signedIn = new WeakMap<TokenSet, string>();

  const tokenCall = tokenEndpoint(deps, { url: cfg.tokenUrl, timeoutMs: TOKEN_TIMEOUT_MS });
  // Every grant carries the installed-app client's id and secret.
  const grant = (fields: Record<string, string>) => ({
    ...fields,
    client_id: cfg.clientId,
    client_secret: cfg.clientSecret,
  });

  const refresh = async (refreshToken: string, proxy: string | undefined): Promise<TokenSet> =>
    (await tokenCall('form', grant({ grant_type: 'refresh_token', refresh_token: refreshToken }), proxy)).tokens;

  const flow: OAuthFlow = {
    platform: 'gemini',
    type: 'oauth',

    authorizationUrl({ state, codeChallenge }) {
      const url = new URL(cfg.authorizeUrl);
      url.searchParams.set('client_id', cfg.clientId);
      url.searchParams.set('redirect_uri', cfg.redirectUri);
      url.searchParams.set('response_type', 'code');
      url.searchParams.set('scope', GOOGLE_SCOPES.join(' '));
      url.searchParams.set('access_type', 'offline');
      url.searchParams.set('prompt', 'consent');
      url.searchParams.set('code_challenge', codeChallenge);
      url.searchParams.set('code_challenge_method', 'S256');
      url.searchParams.set('state', state);
      return url.toString();
    },

    async exchange({ code, codeVerifier }) {
      const { tokens, idToken } = await tokenCall(
        'form',
        grant({ grant_type: 'authorization_code', code, code_verifier: codeVerifier, redirect_uri: cfg.redirectUri }),
        undefined,
      );
      const email = emailOf(idToken);
      if (email) signedIn.set(tokens, email);
      return tokens;
    },

    refresh: (refreshToken) => refresh(refreshToken, undefined),

    async describe(tokens) {
      const email = signedIn.get(tokens);
      // The Code Assist project, found now so the first request need not look for it.
      const projectId = await describeProject(tokens.accessToken).catch(() => undefined);
      return { ...(email ? { name: email.slice(0, 100) } : {}), ...(projectId ? { options: { projectId } } : {}) };
    },
  };

  return { flow, refresh: (refreshToken, account) => refresh(refreshToken, account.credentials.proxy) };
}

/**
 * The email in an id token from the token endpoint. Not verified: it came straight from Google over
 * TLS, and it only names the account.
 */
function emailOf(idToken: string | undefined): string | undefined {
  const payload = idToken?.split('.')[1];
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { email?: unknown };
    return typeof claims.email === 'string' ? claims.email : undefined;
  } catch {
    return undefined;
  }
}
