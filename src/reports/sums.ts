import { COUNTER_FIELDS } from '../usage/recorder.js';
import { figures, type UsageFigures } from '../usage/queries.js';

/**
 * Summed usage counters: the bucket fields as strings, as Redis holds them (cost in picodollars
 * may pass 2^53, so every field is summed as a BigInt). Plain data: it crosses to a pool thread
 * and back.
 */
export type Sums = Record<(typeof COUNTER_FIELDS)[number], string>;

export const emptySums = (): Sums => Object.fromEntries(COUNTER_FIELDS.map((f) => [f, '0'])) as Sums;

/** Adds each hash's counters into one Sums (missing hashes and fields count 0). */
export function sumHashes(hashes: readonly (Readonly<Record<string, string>> | null | undefined)[]): Sums {
  const acc = COUNTER_FIELDS.map(() => 0n);
  for (const h of hashes) {
    if (!h) continue;
    COUNTER_FIELDS.forEach((f, i) => {
      const v = h[f];
      if (v) acc[i]! += BigInt(v);
    });
  }
  return Object.fromEntries(COUNTER_FIELDS.map((f, i) => [f, String(acc[i])])) as Sums;
}

export const addSums = (a: Sums, b: Sums): Sums => sumHashes([a, b]);

/** Usage figures as reports show them: the admin API's figures plus the cache hit rate. */
export type ReportFigures = UsageFigures & {
  /** Cache reads over all input (uncached + cache reads + cache writes); null without input. */
  cacheHitRate: number | null;
  totalTokens: number;
};

export function reportFigures(s: Sums): ReportFigures {
  const f = figures(s);
  const allInput = f.inputTokens + f.cacheReadTokens + f.cacheCreateTokens;
  return {
    ...f,
    cacheHitRate: allInput > 0 ? Math.round((f.cacheReadTokens / allInput) * 1e6) / 1e6 : null,
    totalTokens: allInput + f.outputTokens,
  };
}
