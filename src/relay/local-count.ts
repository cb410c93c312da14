import { estimatePromptTokens } from '../tokens/index.js';
import type { Exchange } from './exchange.js';
import type { ParsedRequest, RelayDeps, Surface } from './types.js';

/** Marks an answer the relay counted itself (docs/TOKENS.md), not the upstream. */
export const ESTIMATE_HEADER = 'x-crs-token-estimate';

/**
 * A count_tokens request no account can count (none of the key's accounts speaks a format with a
 * counting endpoint): answered from the estimator, in the caller's format, marked as an estimate.
 */
export async function answerLocalCount(
  ex: Exchange,
  surface: Surface,
  parsed: ParsedRequest,
  deps: Pick<RelayDeps, 'work'>,
  requestId: string,
): Promise<void> {
  const tokens = await estimatePromptTokens(deps.work, {
    format: surface.format,
    model: parsed.model,
    json: parsed.json,
  });
  const body = surface.shape === 'anthropic' ? { input_tokens: tokens } : { totalTokens: tokens };
  ex.send(
    200,
    { 'content-type': 'application/json', [ESTIMATE_HEADER]: 'true', 'x-request-id': requestId },
    JSON.stringify(body),
  );
}
