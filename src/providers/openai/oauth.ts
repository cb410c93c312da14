import type { OAuthFlow } from '../../accounts/oauth/flow.js';
import { CredentialsRejected, type Refresher, type TokenSet } from '../../accounts/oauth/tokens.js';
import type { OpenAIConfig } from '../../config/index.js';
import type { ProviderDeps } from '../types.js';
import { chatgptClaims } from './claims.js';

/** What OpenAI's token endpoint answers, for a code exchange and a refresh alike. */
interface TokenResponse {
  access_token: string;
  refresh_token?: string;
  id_token?: string;
  /** Seconds; absent in some answers, when the access token's own `exp` says it. */
  expires_in?: number;
}

/** Codex CLI 0.171's scopes (the ChatGPT login it performs). */
export const OPENAI_SCOPES = 'openid profile email offline_access api.connectors.read api.connectors.invoke';
/** Codex asks for these when it refreshes. */
const REFRESH_SCOPE = 'openid profile email';
const TOKEN_TIMEOUT_MS = 30_000;
/** When neither `expires_in` nor the token's `exp` says: OpenAI's usual hour. */
const DEFAULT_LIFETIME_MS = 3_600_000;
/** Answers of the token endpoint that mean the refresh token is gone for good (Codex's own list). */
const FINAL_CODES = new Set(['invalid_grant', 'refresh_token_expired', 'refresh_token_reused', 'refresh_token_invalidated']);

/**
 * OpenAI's OAuth as Codex CLI performs it (a ChatGPT login): the PKCE authorization URL, the code
 * exchange (a form POST, as Codex sends it) and refreshes (JSON, as Codex sends them). Refresh
 * tokens rotate: the token manager runs refreshes under the account's lock. A refresh goes
 * through the account's proxy, like its inference calls.
 */
export function createOpenAIOAuth(deps: ProviderDeps): { flow: OAuthFlow; refresh: Refresher } {
  const cfg: OpenAIConfig['oauth'] = deps.config.openai.oauth;

  const tokenCall = async (body: string, contentType: string, proxy: string | undefined): Promise<TokenResponse> => {
    const res = await deps.http.send(
      { url: cfg.tokenUrl, method: 'POST', headers: { 'content-type': contentType, accept: 'application/json' }, body, ...(proxy ? { proxy } : {}) },
      AbortSignal.timeout(TOKEN_TIMEOUT_MS),
    );
    const json = parseJson(await res.body.text());
    if (res.statusCode !== 200) {
      const code = errorCode(json);
      // A 401 from the token endpoint is final too: Codex treats it so.
      if (res.statusCode === 401 || (code !== undefined && FINAL_CODES.has(code))) {
        throw new CredentialsRejected(`the token endpoint answered ${res.statusCode}${code ? ` ${code}` : ''}`);
      }
      throw new Error(`the token endpoint answered ${res.statusCode}${code ? ` ${code}` : ''}`);
    }
    if (typeof json?.access_token !== 'string' || !json.access_token) throw new Error('the token endpoint answered without an access token');
    return json as unknown as TokenResponse;
  };

  const tokenSet = (r: TokenResponse): TokenSet => {
    const now = deps.clock.now();
    const lifetime = typeof r.expires_in === 'number' && r.expires_in > 0 ? r.expires_in * 1000 : undefined;
    const fromJwt = chatgptClaims(r.access_token).expiresAt;
    return {
      accessToken: r.access_token,
      ...(typeof r.refresh_token === 'string' && r.refresh_token ? { refreshToken: r.refresh_token } : {}),
      ...(typeof r.id_token === 'string' && r.id_token ? { idToken: r.id_token } : {}),
      expiresAt: lifetime !== undefined ? now + Math.round(lifetime) : (fromJwt ?? now + DEFAULT_LIFETIME_MS),
    };
  };

  const refresh = async (refreshToken: string, proxy: string | undefined): Promise<TokenSet> =>
    tokenSet(
      await tokenCall(JSON.stringify({ client_id: cfg.clientId, grant_type: 'refresh_token', refresh_token: refreshToken, scope: REFRESH_SCOPE }), 'application/json', proxy),
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
      const form = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: cfg.redirectUri, client_id: cfg.clientId, code_verifier: codeVerifier });
      return tokenSet(await tokenCall(form.toString(), 'application/x-www-form-urlencoded', undefined));
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

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
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
