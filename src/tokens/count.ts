import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import type { PromptParts } from './text.js';

/** The model families the estimator distinguishes, each with its calibration over o200k_base. */
export type TokenFamily = 'openai' | 'claude' | 'gemini';

/**
 * o200k_base is OpenAI's own vocabulary (GPT-4o, 4.1, 5, o-series): exact for their text. Claude's
 * and Gemini's tokenizers are not published; their counts run higher than o200k's on English and
 * code, by the factors measured on test/tokens/fixtures.json (docs/TOKENS.md).
 */
export const FAMILY_FACTOR: Record<TokenFamily, number> = { openai: 1, claude: 1.2, gemini: 1.05 };

export function familyOf(model: string): TokenFamily {
  const m = model.toLowerCase();
  if (m.includes('claude') || m.startsWith('anthropic')) return 'claude';
  if (m.includes('gemini') || m.includes('gemma')) return 'gemini';
  return 'openai';
}

/** Tokens of the parts under the family's calibration (an estimate, never booked). */
export function countParts(parts: PromptParts, family: TokenFamily): number {
  const text = parts.text.length === 0 ? 0 : countTokens(parts.text);
  return Math.ceil(text * FAMILY_FACTOR[family]) + parts.fixed;
}
