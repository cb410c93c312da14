import { randomBytes } from 'node:crypto';

/** Branded strings: look-alike ids cannot be passed for one another. */
declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

/** A relay API key's id (`k_…`), never the secret. */
export type ApiKeyId = Brand<string, 'ApiKeyId'>;
/** An upstream account's id (`a_…`). */
export type AccountId = Brand<string, 'AccountId'>;
/** Our per-request id, echoed as `x-request-id`. */
export type RequestId = Brand<string, 'RequestId'>;

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

/** 16 chars of Crockford-ish base32 from a CSPRNG (80 bits). */
function randomId(): string {
  const bytes = randomBytes(16);
  let out = '';
  for (const b of bytes) out += ALPHABET[b & 31];
  return out;
}

export const newApiKeyId = (): ApiKeyId => `k_${randomId()}` as ApiKeyId;
export const newAccountId = (): AccountId => `a_${randomId()}` as AccountId;

export const ACCOUNT_ID_PATTERN = /^a_[0-9a-z]{16}$/;
/** An account group's id (`g_` and 16 hex digits). */
export const GROUP_ID_PATTERN = /^g_[0-9a-f]{16}$/;

export const isApiKeyId = (s: string): s is ApiKeyId => /^k_[0-9a-z]{16}$/.test(s);
export const isAccountId = (s: string): s is AccountId => ACCOUNT_ID_PATTERN.test(s);
export const isGroupId = (s: string): boolean => GROUP_ID_PATTERN.test(s);

/**
 * Request ids: a random per-process prefix plus a counter, so they are unique across workers and
 * nodes without a CSPRNG call per request.
 */
export function requestIdFactory(): () => RequestId {
  const prefix = `req_${randomBytes(6).toString('hex')}`;
  let n = 0;
  return () => `${prefix}${(n++).toString(36).padStart(6, '0')}` as RequestId;
}
