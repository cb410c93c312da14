/**
 * Credentials an upstream may quote back in its error text (Anthropic, OpenAI, Google, AWS keys,
 * OAuth access and refresh tokens, JWTs, relay keys, bearer headers), replaced by their last four
 * characters before the text is stored in an account's health, logged, alerted on or answered.
 */
const CREDENTIALS = [
  /\bsk-ant-[A-Za-z0-9_-]{8,}/g,
  /\bsk-[A-Za-z0-9_-]{16,}/g,
  /\bAIza[0-9A-Za-z_-]{20,}/g,
  /\bya29\.[0-9A-Za-z._-]{8,}/g,
  /\b1\/\/[0-9A-Za-z_-]{20,}/g,
  /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g,
  /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g,
  /\bcr_[0-9a-f]{16,}/g,
  /\b[Bb]earer\s+[A-Za-z0-9._~+/=-]{8,}/g,
];

export function redactCredentials(text: string): string {
  let out = text;
  for (const pattern of CREDENTIALS) out = out.replace(pattern, (m) => `[redacted …${m.slice(-4)}]`);
  return out;
}
