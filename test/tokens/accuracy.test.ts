import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createWorkPool } from '../../src/work/pool.js';
import { estimatePromptTokens } from '../../src/tokens/index.js';
import type { WireFormat } from '../../src/wire/index.js';

interface Fixture {
  family: 'claude' | 'gemini' | 'openai';
  format: WireFormat;
  source: string;
  body: Record<string, unknown>;
  upstream: number;
}

const fixtures = JSON.parse(readFileSync(new URL('./fixtures.json', import.meta.url), 'utf8')) as Fixture[];

/** The bounds docs/TOKENS.md documents: |estimate - upstream| / upstream per family, on these fixtures. */
const BOUND = { claude: 0.15, gemini: 0.15, openai: 0.1 } as const;

describe('estimator accuracy against upstream-reported counts (docs/TOKENS.md)', () => {
  const pool = createWorkPool({ maxThreads: 0 });
  for (const f of fixtures) {
    it(`${f.family}: within ${BOUND[f.family] * 100}% of ${f.upstream} (${f.source})`, async () => {
      const model =
        typeof f.body.model === 'string' ? f.body.model : `${f.family === 'gemini' ? 'gemini-2.0-flash' : 'gpt-4o'}`;
      const estimate = await estimatePromptTokens(pool, { format: f.format, model, json: f.body });
      const error = Math.abs(estimate - f.upstream) / f.upstream;
      console.log(`${f.family} estimate ${estimate} upstream ${f.upstream} error ${(error * 100).toFixed(1)}%`);
      expect(error).toBeLessThanOrEqual(BOUND[f.family]);
    });
  }
});
