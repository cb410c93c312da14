/**
 * What OpenAI's tokens say about the ChatGPT account behind them. The id token (and the access
 * token, both JWTs) carry a `https://api.openai.com/auth` claim with the ChatGPT account id the
 * backend wants in `chatgpt-account-id`, and the plan. The relay reads these claims only to
 * address the account; it does not verify signatures (the tokens come from the token endpoint).
 */
export interface ChatGPTClaims {
  accountId?: string;
  planType?: string;
  email?: string;
  /** Epoch ms of `exp`, when present. */
  expiresAt?: number;
}

const AUTH_CLAIM = 'https://api.openai.com/auth';
const PROFILE_CLAIM = 'https://api.openai.com/profile';

export function jwtPayload(token: string | undefined): Record<string, unknown> | undefined {
  const part = token?.split('.')[1];
  if (!part) return undefined;
  try {
    const v = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

export function chatgptClaims(token: string | undefined): ChatGPTClaims {
  const p = jwtPayload(token);
  if (!p) return {};
  const auth = (p[AUTH_CLAIM] ?? {}) as Record<string, unknown>;
  const profile = (p[PROFILE_CLAIM] ?? {}) as Record<string, unknown>;
  const out: ChatGPTClaims = {};
  const accountId = str(auth.chatgpt_account_id);
  const planType = str(auth.chatgpt_plan_type);
  const email = str(p.email) ?? str(profile.email);
  if (accountId) out.accountId = accountId;
  if (planType) out.planType = planType;
  if (email) out.email = email;
  if (typeof p.exp === 'number' && Number.isFinite(p.exp)) out.expiresAt = Math.round(p.exp * 1000);
  return out;
}
