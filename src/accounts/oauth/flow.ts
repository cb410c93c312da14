import { createHash, randomBytes } from 'node:crypto';
import type { Platform } from '../service.js';
import type { Store } from '../../store/index.js';
import type { TokenSet } from './tokens.js';

/**
 * An OAuth authorization-code flow with PKCE, driven from the admin API: `start` gives the admin
 * a URL to open; the provider redirects to a page showing a code (or a callback URL the admin
 * copies); `exchange` trades it for tokens and creates the account.
 */
export interface OAuthFlow {
  readonly platform: Platform;
  /** The account type the flow creates (`oauth`). */
  readonly type: string;
  authorizationUrl(p: { state: string; codeChallenge: string }): string;
  /** `proxy`: the new account's proxy; the exchange goes through it like the account's later calls. */
  exchange(p: { code: string; codeVerifier: string; state: string; proxy?: string }): Promise<TokenSet>;
  refresh(refreshToken: string): Promise<TokenSet>;
  /** What the new account should know beyond its tokens (email as a name, project id, ChatGPT account id). */
  describe?(
    tokens: TokenSet,
  ): Promise<{ name?: string; credentials?: Record<string, string>; options?: Record<string, string> }>;
}

const b64url = (buf: Buffer) => buf.toString('base64url');

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = b64url(randomBytes(32));
  return { verifier, challenge: b64url(createHash('sha256').update(verifier).digest()) };
}

/** A flow waiting for its code: kept in Redis for 10 minutes, readable by any node. */
export interface OAuthSession {
  id: string;
  platform: Platform;
  state: string;
  verifier: string;
  createdAt: number;
}

const SESSION_TTL_SECONDS = 600;

export async function saveOAuthSession(
  store: Store,
  platform: Platform,
  now: number,
): Promise<{ session: OAuthSession; challenge: string }> {
  const { verifier, challenge } = pkcePair();
  const session: OAuthSession = {
    id: b64url(randomBytes(16)),
    platform,
    state: b64url(randomBytes(24)),
    verifier,
    createdAt: now,
  };
  await store.redis.set(store.keys.oauthSession(session.id), JSON.stringify(session), 'EX', SESSION_TTL_SECONDS);
  return { session, challenge };
}

/** Takes the session (once: a code cannot be exchanged twice). */
export async function takeOAuthSession(store: Store, id: string): Promise<OAuthSession | null> {
  const raw = await store.redis.getdel(store.keys.oauthSession(id));
  return raw ? (JSON.parse(raw) as OAuthSession) : null;
}

/**
 * What the admin pastes: the bare code, `code#state` (Claude's page shows that), or the whole
 * callback URL with `?code=…&state=…`.
 */
export function parsePastedCode(pasted: string): { code: string; state?: string } {
  const text = pasted.trim();
  if (/^https?:\/\//.test(text)) {
    const url = new URL(text);
    const code = url.searchParams.get('code') ?? '';
    const state = url.searchParams.get('state') ?? undefined;
    return state ? { code, state } : { code };
  }
  const [code, state] = text.split('#');
  return state ? { code: code ?? '', state } : { code: code ?? '' };
}
