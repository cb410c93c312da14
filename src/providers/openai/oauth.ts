import type { OAuthFlow } from '../../accounts/oauth/flow.js';
import { tokenEndpoint, type TokenAnswer } from '../../accounts/oauth/token-endpoint.js';
import type { Refresher, TokenSet } from '../../accounts/oauth/tokens.js';
import type { OpenAIConfig } from '../../config/index.js';
import type { ProviderDeps } from '../types.js';
import { chatgptClaims } from './claims.js';

/** Codex CLI 0.171's scopes (the ChatGPT login it performs). */
export const OPENAI_SCOPES = 'openid profile email offline_access api.connectors.read api.connectors.invoke';
/** Codex asks for these when it refreshes. */
const REFRESH_SCOPE = 'openid profile email';
const TOKEN_TIMEOUT_MS = 30_000;
/** When neither `expires_in` nor the token's `exp` says: OpenAI's usual hour. */
const DEFAULT_LIFETIME_MS = 3_600_000;
/** Answers of the token endpoint that mean the refresh token is gone for good (Codex's own list). */
const FINAL_CODES = new Set([
  'invalid_grant',
  'refresh_token_expired',
  'refresh_token_reused',
  'refresh_token_invalidated',
]);

/**
 * OpenAI's OAuth as Codex CLI performs it (a ChatGPT login): the PKCE authorization URL, the code
 * exchange (a form POST, as Codex sends it) and refreshes (JSON, as Codex sends them). Refresh
 * tokens rotate: the token manager runs refreshes under the account's lock. A refresh goes
 * through the account's proxy, like its inference calls.
 */
export function createOpenAIOAuth(deps: ProviderDeps): { flow: OAuthFlow; refresh: Refresher } {
  const cfg: OpenAIConfig['oauth'] = deps.config.openai.oauth;

  const tokenCall = tokenEndpoint(deps, {
    url: cfg.tokenUrl,
    timeoutMs: TOKEN_TIMEOUT_MS,
    errorCode,
    // A 401 from the token endpoint is final too: Codex treats it so.
    isFinal: (status, code) => status === 401 || (code !== undefined && FINAL_CODES.has(code)),
    // `expires_in` is absent in some answers, when the access token's own `exp` says it.
    expiresAtWithoutLifetime: (accessToken, now) => chatgptClaims(accessToken).expiresAt ?? now + DEFAULT_LIFETIME_MS,
  });
  // The id token names the ChatGPT account (`describe`): kept with the tokens.
  const tokenSet = ({ tokens, idToken }: TokenAnswer): TokenSet => ({ ...tokens, ...(idToken ? { idToken } : {}) });

  const refresh = async (refreshToken: string, proxy: string | undefined): Promise<TokenSet> =>
    tokenSet(
      await tokenCall(
        'json',
        { client_id: cfg.clientId, grant_type: 'refresh_token', refresh_token: refreshToken, scope: REFRESH_SCOPE },
        proxy,
      ),
    );

  const flow: OAuthFlow = {
    platform: 'openai',
    type: 'oauth',

    authorizationUrl({ state, codeChallenge }) {
      const url = new URL(cfg.authorizeUrl);
      url.searchParams.set('response_type', 'code');
      url.searchParams.set('client_id', cfg.clientId);
      url.searchParams.set('redirect_uri', cfg.redirectUri);
      url.searchParams.set('scope', OPENAI_SCOPES);
      url.searchParams.set('code_challenge', codeChallenge);
      url.searchParams.set('code_challenge_method', 'S256');
      url.searchParams.set('id_token_add_organizations', 'true');
      url.searchParams.set('codex_cli_simplified_flow', 'true');
      url.searchParams.set('state', state);
      return url.toString();
    },

    async exchange({ code, codeVerifier }) {
      return tokenSet(
        await tokenCall(
          'form',
          {
            grant_type: 'authorization_code',
            code,
            redirect_uri: cfg.redirectUri,
            client_id: cfg.clientId,
            code_verifier: codeVerifier,
          },
          undefined,
        ),
      );
    },

    refresh: (refreshToken) => refresh(refreshToken, undefined),

    /** The account is named by its email; its ChatGPT account id is what the backend is addressed by. */
    async describe(tokens) {
      const claims = { ...chatgptClaims(tokens.accessToken), ...chatgptClaims(tokens.idToken) };
      const options: Record<string, string> = {};
      if (claims.accountId) options.chatgptAccountId = claims.accountId;
      if (claims.planType) options.planType = claims.planType;
      return { ...(claims.email ? { name: claims.email.slice(0, 100) } : {}), options };
    },
  };

  return { flow, refresh: (refreshToken, account) => refresh(refreshToken, account.credentials.proxy) };
}

/** `{"error": "invalid_grant"}` (OAuth) or `{"error": {"code": "refresh_token_reused", …}}` (OpenAI). */
function errorCode(json: Record<string, unknown> | undefined): string | undefined {
  const e = json?.error;
  if (typeof e === 'string') return e;
  if (e && typeof e === 'object') {
    const { code, type } = e as { code?: unknown; type?: unknown };
    if (typeof code === 'string' && code) return code;
    if (typeof type === 'string' && type) return type;
  }
  return undefined;
}
