/**
 * The Anthropic Messages body → the body of Bedrock's InvokeModel for Claude.
 *
 * Bedrock takes the Messages body with the model in the URL instead (`model` and `stream` removed),
 * `anthropic_version: "bedrock-2023-05-31"`, and the betas in the body (`anthropic_beta`) instead
 * of the `anthropic-beta` header. Bedrock answers 400 to anything it does not know ("invalid beta
 * flag", "extraneous key … is not permitted"), while a dropped beta or field only disables an
 * optional feature; so betas pass through an allow list (extendable per account), and top-level
 * fields only Anthropic's own API has are removed.
 */
export const BEDROCK_ANTHROPIC_VERSION = 'bedrock-2023-05-31';

/** Betas Bedrock's Claude models accept (AWS's Claude Messages documentation). */
const BEDROCK_BETAS = new Set([
  'computer-use-2024-10-22',
  'computer-use-2025-01-24',
  'token-efficient-tools-2025-02-19',
  'interleaved-thinking-2025-05-14',
  'output-128k-2025-02-19',
  'dev-full-thinking-2025-05-14',
  'context-1m-2025-08-07',
  'context-management-2025-06-27',
  'effort-2025-11-24',
  'tool-search-tool-2025-10-19',
  'tool-examples-2025-10-29',
]);

/** Top-level Messages fields Bedrock's schema does not have. */
const ANTHROPIC_ONLY_FIELDS = ['model', 'stream', 'metadata', 'service_tier', 'container', 'inference_geo', 'speed'];

/**
 * The betas to send: the client's `anthropic-beta` header filtered by the allow list, plus the
 * account's `betas` option (comma-separated extra flags, or `*` to pass every flag through).
 */
export function bedrockBetas(header: string | undefined, accountBetas: string | undefined): string[] {
  if (!header) return [];
  const extra = new Set(
    (accountBetas ?? '')
      .split(',')
      .map((b) => b.trim())
      .filter(Boolean),
  );
  const out: string[] = [];
  for (const raw of header.split(',')) {
    const beta = raw.trim();
    if (!beta || out.includes(beta)) continue;
    if (BEDROCK_BETAS.has(beta) || extra.has(beta) || extra.has('*')) out.push(beta);
  }
  return out;
}

export function invokeBody(json: Readonly<Record<string, unknown>>, betas: readonly string[]): Record<string, unknown> {
  const body: Record<string, unknown> = { anthropic_version: BEDROCK_ANTHROPIC_VERSION };
  for (const [k, v] of Object.entries(json))
    if (!ANTHROPIC_ONLY_FIELDS.includes(k) && k !== 'anthropic_version' && k !== 'anthropic_beta') body[k] = v;
  if (betas.length > 0) body.anthropic_beta = [...betas];
  return body;
}

/**
 * CountTokens counts the tokens of an InvokeModel body, which needs `max_tokens` (a count_tokens
 * request has none): 1, or just above the thinking budget when thinking is on, as Claude Code
 * does. Bedrock takes the body as a blob, base64 in JSON.
 */
export function countTokensBody(
  json: Readonly<Record<string, unknown>>,
  betas: readonly string[],
): Record<string, unknown> {
  const invoke = invokeBody(json, betas);
  if (typeof invoke.max_tokens !== 'number') {
    const budget = (json.thinking as { budget_tokens?: unknown } | undefined)?.budget_tokens;
    invoke.max_tokens = typeof budget === 'number' && budget > 0 ? budget + 1 : 1;
  }
  return { input: { invokeModel: { body: Buffer.from(JSON.stringify(invoke)).toString('base64') } } };
}
