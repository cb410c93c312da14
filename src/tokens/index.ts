import type { WireFormat } from '../wire/index.js';
import { task, type WorkPool } from '../work/pool.js';
import { countParts, familyOf, type TokenFamily } from './count.js';
import type { PromptParts } from './text.js';
import { promptParts } from './text.js';

export { familyOf, type TokenFamily } from './count.js';

/** Prompts with more text than this are counted on a pool thread, never on the serving loop. */
export const INLINE_MAX_CHARS = 32 * 1024;

const COUNT = task<{ parts: PromptParts; family: TokenFamily }, number>(
  new URL('./count-task.js', import.meta.url),
  'count',
);

/**
 * Estimates a request's prompt tokens before the upstream answers (admission, local count_tokens).
 * Never booked: booking stays the upstream's numbers.
 */
export async function estimatePromptTokens(
  work: WorkPool,
  req: { format: WireFormat; model: string; json: Record<string, unknown> },
  signal?: AbortSignal,
): Promise<number> {
  const parts = promptParts(req.format, req.json);
  const family = familyOf(req.model);
  if (parts.text.length <= INLINE_MAX_CHARS) return countParts(parts, family);
  return work.run(COUNT, { parts, family }, signal ? { signal } : {});
}
