import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { serve, withBody } from './server-kit.js';

/**
 * A fake OAuth 2 authorization server for upstream accounts (Claude, and any other platform whose
 * tokens come from an authorization-code + PKCE flow and rotate on refresh):
 *  - an authorization page that "signs the user in" at once and redirects to `redirect_uri` with
 *    `code` and `state`, the code bound to its S256 challenge, redirect URI and client id;
 *  - a token endpoint for the `authorization_code` and `refresh_token` grants, accepting JSON or
 *    form bodies, answering like real servers do (`400 {"error":"invalid_grant"}` and friends);
 *  - ROTATING refresh tokens: a refresh token works once; used again it is `invalid_grant`;
 *  - a log of every token request, refresh counts, an adjustable delay and token lifetime,
 *    scripted failures, and revocation, so tests can stage races and outages.
 * Tokens are random strings with a configurable prefix; the server knows which are live.
 */
export type Grant = 'authorization_code' | 'refresh_token';

export interface FakeOAuthOptions {
  /** Path of the token endpoint (default `/v1/oauth/token`, Claude's). */
  tokenPath?: string;
  /** Path of the authorization page (default `/oauth/authorize`). */
  authorizePath?: string;
  /** Lifetime of issued access tokens in seconds (default 3600; see `setExpiresIn`). */
  expiresIn?: number;
  /**
   * Refresh tokens are single-use (default true). Off: the same refresh token keeps working and is not returned again.
   */
  rotate?: boolean;
  /** The `client_id` every token request and authorization must carry (default: any). */
  clientId?: string;
  accessPrefix?: string;
  refreshPrefix?: string;
  /** Extra fields of every successful token response (Claude's `account`/`organization`, an `id_token`…). */
  responseFields?: (grant: Grant) => Record<string, unknown>;
}

export interface TokenRequest {
  grant: string;
  /** The request body, as fields (JSON or form). */
  body: Record<string, string>;
  contentType: string;
  headers: http.IncomingHttpHeaders;
  status: number;
  /** The error code answered, if it was an error. */
  error?: string;
}

export interface IssuedTokens {
  accessToken: string;
  refreshToken: string;
  /** Epoch ms. */
  expiresAt: number;
}

export interface FakeOAuthServer {
  readonly url: string;
  readonly tokenUrl: string;
  readonly authorizeUrl: string;
  readonly requests: TokenRequest[];
  /** Authorization page visits, with their query parameters. */
  readonly authorizations: Record<string, string>[];
  /** Requests of the `refresh_token` grant received, optionally only those answered with `status`. */
  refreshCalls(status?: number): number;
  /** Mints a token pair, as if the user had signed in elsewhere (for importing accounts). */
  issue(expiresIn?: number): IssuedTokens;
  /** Issued, not revoked and not expired. */
  isValidAccessToken(token: string): boolean;
  /** The refresh token that works now in the family of `anyRefreshToken` (rotated or not), if any. */
  liveRefreshToken(anyRefreshToken: string): string | undefined;
  /** The newest access token issued in the family of `anyRefreshToken`. */
  latestAccessToken(anyRefreshToken: string): string | undefined;
  revokeAccessToken(token: string): void;
  /** Revokes a refresh token's whole family (the user signed out, or the grant was withdrawn). */
  revokeFamily(anyRefreshToken: string): void;
  /** Every token answer waits this long (a slow authorization server). */
  setDelay(ms: number): void;
  setExpiresIn(seconds: number): void;
  /** The next token requests get these answers instead (then normal service resumes). */
  failNext(...answers: { status: number; body?: Record<string, unknown> | string }[]): void;
  close(): Promise<void>;
}

interface Family {
  live: string | undefined;
  accessTokens: string[];
}

export async function startFakeOAuthServer(opts: FakeOAuthOptions = {}): Promise<FakeOAuthServer> {
  const tokenPath = opts.tokenPath ?? '/v1/oauth/token';
  const authorizePath = opts.authorizePath ?? '/oauth/authorize';
  const rotate = opts.rotate ?? true;
  const accessPrefix = opts.accessPrefix ?? 'fake-access-';
  const refreshPrefix = opts.refreshPrefix ?? 'fake-refresh-';
  let expiresIn = opts.expiresIn ?? 3600;
  let delayMs = 0;
  const failures: { status: number; body?: Record<string, unknown> | string }[] = [];

  const requests: TokenRequest[] = [];
  const authorizations: Record<string, string>[] = [];
  /** Every refresh token ever issued → its family. */
  const families = new Map<string, Family>();
  const accessExpiry = new Map<string, number>();
  const revokedAccess = new Set<string>();
  const codes = new Map<string, { challenge: string; method: string; redirectUri: string; clientId: string }>();

  const mint = (family: Family | undefined): { tokens: IssuedTokens; family: Family; rotated: boolean } => {
    const accessToken = accessPrefix + randomBytes(24).toString('base64url');
    const expiresAt = Date.now() + expiresIn * 1000;
    accessExpiry.set(accessToken, expiresAt);
    const f = family ?? { live: undefined, accessTokens: [] };
    f.accessTokens.push(accessToken);
    const rotated = !family || rotate;
    if (rotated) {
      const refreshToken = refreshPrefix + randomBytes(24).toString('base64url');
      f.live = refreshToken;
      families.set(refreshToken, f);
    }
    return { tokens: { accessToken, refreshToken: f.live ?? '', expiresAt }, family: f, rotated };
  };

  const send = (res: http.ServerResponse, status: number, body: Record<string, unknown> | string) => {
    res.writeHead(status, {
      'content-type': typeof body === 'string' ? 'text/plain' : 'application/json',
      'cache-control': 'no-store',
    });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  };

  const tokenAnswer = (grant: Grant, issued: IssuedTokens, withRefresh: boolean, scope: string | undefined) => ({
    token_type: 'Bearer',
    access_token: issued.accessToken,
    expires_in: expiresIn,
    ...(withRefresh ? { refresh_token: issued.refreshToken } : {}),
    ...(scope ? { scope } : {}),
    ...opts.responseFields?.(grant),
  });

  const handleToken = (body: Record<string, string>): { status: number; body: Record<string, unknown> | string } => {
    const failure = failures.shift();
    if (failure) return { status: failure.status, body: failure.body ?? { error: 'server_error' } };
    if (opts.clientId && body.client_id !== opts.clientId)
      return { status: 401, body: { error: 'invalid_client', error_description: 'Unknown client' } };
    if (body.grant_type === 'authorization_code') {
      const bound = body.code ? codes.get(body.code) : undefined;
      if (!bound)
        return { status: 400, body: { error: 'invalid_grant', error_description: 'Invalid authorization code' } };
      codes.delete(body.code ?? '');
      const verifier = body.code_verifier ?? '';
      const challenge = bound.method === 'S256' ? createHash('sha256').update(verifier).digest('base64url') : verifier;
      if (!verifier || challenge !== bound.challenge)
        return { status: 400, body: { error: 'invalid_grant', error_description: 'PKCE verification failed' } };
      if (body.redirect_uri !== bound.redirectUri)
        return { status: 400, body: { error: 'invalid_grant', error_description: 'redirect_uri mismatch' } };
      const { tokens } = mint(undefined);
      return { status: 200, body: tokenAnswer('authorization_code', tokens, true, body.scope) };
    }
    if (body.grant_type === 'refresh_token') {
      const family = body.refresh_token ? families.get(body.refresh_token) : undefined;
      if (!family || family.live !== body.refresh_token)
        return {
          status: 400,
          body: { error: 'invalid_grant', error_description: 'Refresh token not found or invalid' },
        };
      const { tokens, rotated } = mint(family);
      return { status: 200, body: tokenAnswer('refresh_token', tokens, rotated, body.scope) };
    }
    return { status: 400, body: { error: 'unsupported_grant_type' } };
  };

  const server = http.createServer(
    withBody((req, res, raw) => {
      const url = new URL(req.url ?? '/', 'http://fake');
      if (req.method === 'GET' && url.pathname === authorizePath) {
        const q = Object.fromEntries(url.searchParams);
        authorizations.push(q);
        if (
          q.response_type !== 'code' ||
          !q.redirect_uri ||
          !q.code_challenge ||
          (opts.clientId && q.client_id !== opts.clientId)
        ) {
          return send(res, 400, { error: 'invalid_request' });
        }
        const code = `code-${randomBytes(16).toString('base64url')}`;
        codes.set(code, {
          challenge: q.code_challenge,
          method: q.code_challenge_method ?? 'plain',
          redirectUri: q.redirect_uri,
          clientId: q.client_id ?? '',
        });
        const to = new URL(q.redirect_uri);
        to.searchParams.set('code', code);
        if (q.state) to.searchParams.set('state', q.state);
        res.writeHead(302, { location: to.toString() });
        return res.end();
      }
      if (req.method !== 'POST' || url.pathname !== tokenPath) return send(res, 404, { error: 'not_found' });
      const contentType = String(req.headers['content-type'] ?? '');
      const body = parseBody(raw, contentType);
      const answer = body
        ? handleToken(body)
        : { status: 400, body: { error: 'invalid_request', error_description: 'Invalid request format' } };
      const error =
        typeof answer.body === 'object' && typeof answer.body.error === 'string' ? answer.body.error : undefined;
      requests.push({
        grant: body?.grant_type ?? '',
        body: body ?? {},
        contentType,
        headers: req.headers,
        status: answer.status,
        ...(error ? { error } : {}),
      });
      setTimeout(() => send(res, answer.status, answer.body), delayMs);
    }),
  );
  const { url, close } = await serve(server);

  return {
    url,
    tokenUrl: url + tokenPath,
    authorizeUrl: url + authorizePath,
    requests,
    authorizations,
    refreshCalls: (status) =>
      requests.filter((r) => r.grant === 'refresh_token' && (status === undefined || r.status === status)).length,
    issue(seconds) {
      const saved = expiresIn;
      if (seconds !== undefined) expiresIn = seconds;
      try {
        return mint(undefined).tokens;
      } finally {
        expiresIn = saved;
      }
    },
    isValidAccessToken: (token) => !revokedAccess.has(token) && (accessExpiry.get(token) ?? 0) > Date.now(),
    liveRefreshToken: (any) => families.get(any)?.live,
    latestAccessToken: (any) => families.get(any)?.accessTokens.at(-1),
    revokeAccessToken: (token) => void revokedAccess.add(token),
    revokeFamily(any) {
      const family = families.get(any);
      if (!family) return;
      family.live = undefined;
      for (const t of family.accessTokens) revokedAccess.add(t);
    },
    setDelay: (ms) => void (delayMs = ms),
    setExpiresIn: (seconds) => void (expiresIn = seconds),
    failNext: (...answers) => void failures.push(...answers),
    close,
  };
}

function parseBody(raw: string, contentType: string): Record<string, string> | undefined {
  try {
    if (contentType.includes('application/json')) {
      const json: unknown = JSON.parse(raw);
      if (!json || typeof json !== 'object' || Array.isArray(json)) return undefined;
      return Object.fromEntries(
        Object.entries(json).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]),
      );
    }
    if (contentType.includes('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(raw));
  } catch {
    return undefined;
  }
  return undefined;
}
