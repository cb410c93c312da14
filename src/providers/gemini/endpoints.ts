import type { Account } from '../../accounts/service.js';
import type { GoogleConfig } from '../../config/index.js';
import type { Operation } from '../../wire/index.js';

/** The public endpoints, as account types name them by default. */
export const GEMINI_API = 'https://generativelanguage.googleapis.com';
export const CODE_ASSIST_API = 'https://cloudcode-pa.googleapis.com';

/**
 * Where an account's calls go: its own base URL, or, while it keeps the public default, the
 * configured one (GEMINI_API_URL, CODE_ASSIST_URL: a regional mirror, or a fake in tests).
 */
export function baseUrlOf(account: Account, google: GoogleConfig): string {
  const own = account.baseUrl.replace(/\/+$/, '');
  if (account.type === 'oauth')
    return own === '' || own === CODE_ASSIST_API ? google.codeAssistUrl.replace(/\/+$/, '') : own;
  return own === '' || own === GEMINI_API ? google.geminiApiUrl.replace(/\/+$/, '') : own;
}

/** The native method of an operation: the relay always streams as SSE (the usage tap reads events). */
export function nativeMethod(op: Operation, stream: boolean): { method: string; query: string } {
  if (op === 'count_tokens') return { method: 'countTokens', query: '' };
  return stream ? { method: 'streamGenerateContent', query: '?alt=sse' } : { method: 'generateContent', query: '' };
}

/** `https://…/v1beta/models/gemini-2.5-pro:generateContent`; a base already ending in a version keeps it. */
export function nativeUrl(base: string, model: string, op: Operation, stream: boolean): string {
  const { method, query } = nativeMethod(op, stream);
  const versioned = /\/v1(?:beta|alpha)?\d*$/.test(base) ? base : `${base}/v1beta`;
  return `${versioned}/models/${encodeURIComponent(model)}:${method}${query}`;
}

/** `https://…/v1internal:streamGenerateContent?alt=sse`. */
export function codeAssistUrl(base: string, op: Operation, stream: boolean): string {
  const { method, query } = nativeMethod(op, stream);
  return `${base}/v1internal:${method}${query}`;
}
