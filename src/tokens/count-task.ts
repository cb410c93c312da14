import { lowerThreadPriority } from '../work/thread.js';
import { countParts, type TokenFamily } from './count.js';
import type { PromptParts } from './text.js';

lowerThreadPriority();

/** Pool task: counts a large prompt off the serving event loop. */
export function count(input: { parts: PromptParts; family: TokenFamily }): number {
  return countParts(input.parts, input.family);
}
