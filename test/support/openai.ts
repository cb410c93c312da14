import { startFakeOAuthServer, type FakeOAuthServer, type IssuedTokens } from '../fakes/oauth-server.js';
import type { FakeOpenAI, FakeOpenAIUsage } from '../fakes/openai.js';
import type { AdminClient } from './relay.js';
import type { Booked } from './usage-math.js';

/**
 * OpenAI prices worked out by hand from the published per-million rates, in picodollars per token
 * (deliberately not read from the relay's pricing code): $2/M = 2,000,000 p$ per token.
 */
export const OPENAI_PRICES = {
  // $2 in, $10 out, cached input $0.10, 30-minute cache writes $2.50 (up to 272K input tokens)
  'gpt-6.2-sol': { input: 2_000_000n, output: 10_000_000n, read: 100_000n, write: 2_500_000n },
  // $2.50 in, $10 out, cached input $1.25 (no cache-write price: writes cost input)
  'gpt-4o': { input: 2_500_000n, output: 10_000_000n, read: 1_250_000n, write: 2_500_000n },
  // $0.02 in
  'text-embedding-3-small': { input: 20_000n, output: 0n, read: 20_000n, write: 20_000n },
} as const;
export type OpenAIPricedModel = keyof typeof OPENAI_PRICES;

/**
 * What one call that reported `u` must book: input net of cache reads and writes; reasoning is
 * part of the output and is not booked again.
 */
export function openaiBooking(model: OpenAIPricedModel, u: FakeOpenAIUsage, requests = 1): Booked {
  const p = OPENAI_PRICES[model];
  const read = u.cached ?? 0;
  const write = u.cacheWrite ?? 0;
  const input = u.input - read - write;
  const cost = BigInt(input) * p.input + BigInt(u.output) * p.output + BigInt(read) * p.read + BigInt(write) * p.write;
  return {
    requests,
    errors: 0,
    inputTokens: input,
    outputTokens: u.output,
    cacheCreateTokens: write,
    cacheCreate5mTokens: write,
    cacheCreate1hTokens: 0,
    cacheReadTokens: read,
    webSearchRequests: 0,
    costPico: cost.toString(),
  };
}

/** A JWT-shaped token with the claims OpenAI's id and access tokens carry (unsigned: the relay does not verify). */
export function fakeJwt(claims: { accountId?: string; email?: string; plan?: string; exp?: number }): string {
  const payload = {
    ...(claims.email ? { email: claims.email } : {}),
    ...(claims.exp ? { exp: claims.exp } : {}),
    'https://api.openai.com/auth': { chatgpt_account_id: claims.accountId, chatgpt_plan_type: claims.plan ?? 'pro' },
  };
  return `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.`;
}

/** The ChatGPT account (workspace) id the fake OAuth server's id tokens name. */
export const CHATGPT_ACCOUNT_ID = '7d1c0de5-0000-4000-8000-00000000c0de';
export const CHATGPT_EMAIL = 'codex.user@example.com';

/**
 * A fake of auth.openai.com: Codex's client id, `/oauth/token`, rotating refresh tokens, id tokens naming the ChatGPT
 * account.
 */
export function startOpenAIOAuthServer(opts: { expiresIn?: number } = {}): Promise<FakeOAuthServer> {
  return startFakeOAuthServer({
    tokenPath: '/oauth/token',
    clientId: 'app_EMoamEEZ73f0CkXaXp7hrann',
    accessPrefix: 'chatgpt-access-',
    refreshPrefix: 'chatgpt-refresh-',
    ...(opts.expiresIn ? { expiresIn: opts.expiresIn } : {}),
    responseFields: () => ({ id_token: fakeJwt({ accountId: CHATGPT_ACCOUNT_ID, email: CHATGPT_EMAIL, plan: 'pro' }) }),
  });
}

/** Relay settings pointing OpenAI's OAuth and the ChatGPT backend at the fakes. */
export function openaiOAuthEnv(oauth: FakeOAuthServer, fake: FakeOpenAI): Record<string, string> {
  return {
    OPENAI_OAUTH_AUTHORIZE_URL: oauth.authorizeUrl,
    OPENAI_OAUTH_TOKEN_URL: oauth.tokenUrl,
    CHATGPT_BACKEND_URL: fake.chatgptUrl,
  };
}

/**
 * Imports a token pair the fake issued as a ChatGPT (Codex) account. `expiresAt` is what the relay
 * is told (in the past = expired as far as the relay knows).
 */
export async function importChatGPTAccount(
  admin: AdminClient,
  oauth: FakeOAuthServer,
  opts: { name?: string; expiresAt?: number; tokens?: IssuedTokens } = {},
): Promise<{ id: string; tokens: IssuedTokens }> {
  const tokens = opts.tokens ?? oauth.issue();
  const res = await admin.request<{ id: string }>('POST', '/admin/accounts', {
    platform: 'openai',
    type: 'oauth',
    name: opts.name ?? 'chatgpt pro',
    accessToken: tokens.accessToken,
    refreshToken: tokens.refreshToken,
    expiresAt: String(opts.expiresAt ?? tokens.expiresAt),
    idToken: fakeJwt({ accountId: CHATGPT_ACCOUNT_ID, email: CHATGPT_EMAIL }),
  });
  if (res.status !== 201) throw new Error(`import: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.id, tokens };
}
