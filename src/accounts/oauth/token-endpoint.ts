import type { Upstream } from '../../upstream/types.js';
import type { Clock } from '../../util/clock.js';
import { CredentialsRejected, type TokenSet } from './tokens.js';

/** How one platform's token endpoint is called and read; where platforms differ, each says so here. */
export interface TokenEndpointSpec {
  url: string;
  /** A refresh holds the account's lock while it waits: the call must give up well before the lock expires. */
  timeoutMs: number;
  /** Sent after `content-type` and `accept` (Claude presents Claude Code's user-agent). */
  headers?: Readonly<Record<string, string>>;
  /** The error code in a failed answer. Default: OAuth's `{"error": "invalid_grant"}`. */
  errorCode?: (body: Record<string, unknown> | undefined) => string | undefined;
  /** Whether a failed answer means the grant is gone for good (CredentialsRejected). Default: `invalid_grant`. */
  isFinal?: (status: number, code: string | undefined) => boolean;
  /**
   * The access token's expiry when the answer has no `expires_in` (OpenAI's token's own `exp`).
   * Without it, an answer without a lifetime is malformed.
   */
  expiresAtWithoutLifetime?: (accessToken: string, now: number) => number;
}

/** What a successful call yields. */
export interface TokenAnswer {
  /** The tokens, without the id token: a platform keeps that only where it needs it. */
  tokens: TokenSet;
  idToken?: string;
  /** The whole answer, for what only one platform sends (Claude's account and organization). */
  body: Record<string, unknown>;
}

/** Posts a grant, JSON- or form-encoded as the platform's own client sends it, through the account's proxy (if any). */
export type TokenCall = (
  encoding: 'json' | 'form',
  grant: Record<string, string>,
  proxy: string | undefined,
) => Promise<TokenAnswer>;

/**
 * A platform's token endpoint, for code exchanges and refreshes alike. A failure the spec calls
 * final (`invalid_grant`: the refresh token was revoked or rotated away) is CredentialsRejected;
 * anything else (5xx, network, a malformed answer) is a plain Error that may pass, and leaves the
 * stored tokens alone. Messages name the status and error code, never the grant.
 */
export function tokenEndpoint(deps: { http: Upstream; clock: Clock }, spec: TokenEndpointSpec): TokenCall {
  const errorCode = spec.errorCode ?? oauthErrorCode;
  const isFinal = spec.isFinal ?? ((_status: number, code: string | undefined) => code === 'invalid_grant');

  return async (encoding, grant, proxy) => {
    const res = await deps.http.send(
      {
        url: spec.url,
        method: 'POST',
        headers: {
          'content-type': encoding === 'json' ? 'application/json' : 'application/x-www-form-urlencoded',
          accept: 'application/json',
          ...spec.headers,
        },
        body: encoding === 'json' ? JSON.stringify(grant) : new URLSearchParams(grant).toString(),
        ...(proxy ? { proxy } : {}),
      },
      AbortSignal.timeout(spec.timeoutMs),
    );
    const json = parseJson(await res.body.text());
    if (res.statusCode !== 200) {
      const code = errorCode(json);
      const message = `the token endpoint answered ${res.statusCode}${code ? ` ${code}` : ''}`;
      throw isFinal(res.statusCode, code) ? new CredentialsRejected(message) : new Error(message);
    }

    // Claude and Google always say how long the token lives; OpenAI may leave that to the token.
    const malformed = () =>
      new Error(
        `the token endpoint answered without an access token${spec.expiresAtWithoutLifetime ? '' : ' and its lifetime'}`,
      );
    const accessToken = json?.access_token;
    if (!json || typeof accessToken !== 'string' || !accessToken) throw malformed();
    const now = deps.clock.now();
    const expiresAt =
      typeof json.expires_in === 'number' && json.expires_in > 0
        ? now + Math.round(json.expires_in * 1000)
        : spec.expiresAtWithoutLifetime?.(accessToken, now);
    if (expiresAt === undefined) throw malformed();
    const tokens: TokenSet = {
      accessToken,
      ...(typeof json.refresh_token === 'string' && json.refresh_token ? { refreshToken: json.refresh_token } : {}),
      expiresAt,
    };
    return {
      tokens,
      ...(typeof json.id_token === 'string' && json.id_token ? { idToken: json.id_token } : {}),
      body: json,
    };
  };
}

/** OAuth's error answer: `{"error": "invalid_grant", "error_description": …}`. */
function oauthErrorCode(body: Record<string, unknown> | undefined): string | undefined {
  return typeof body?.error === 'string' ? body.error : undefined;
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
