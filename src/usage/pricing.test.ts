import { describe, expect, it } from 'vitest';
import shipped from './pricing.json' with { type: 'json' };
import {
  createPricing,
  fromLiteLLM,
  normaliseModelName,
  picoToUsd,
  PricingTableError,
  validateTable,
  ZERO_USAGE,
  type PriceSource,
  type PricingTableJson,
  type TokenUsage,
} from './pricing.js';

/**
 * Expected costs are written as tokens × pp(published USD per million): a price of $X per million
 * tokens is X·1e6 picodollars per token, an integer (the rule stated in pricing.ts).
 */
const pp = (usdPerMillion: number) => Math.round(usdPerMillion * 1e6);
const usage = (u: Partial<TokenUsage>): TokenUsage => ({ ...ZERO_USAGE, ...u });
const pricing = createPricing();

describe('model resolution with the shipped table', () => {
  it.each<[string, string, PriceSource]>([
    // 1. exact id, or an alias listed in the table (case-insensitive)
    ['claude-sonnet-4-5', 'claude-sonnet-4-5', 'exact'],
    ['Claude-Sonnet-4-5', 'claude-sonnet-4-5', 'exact'],
    ['claude-sonnet-4-5-20250929', 'claude-sonnet-4-5', 'exact'],
    ['claude-3-5-sonnet-latest', 'claude-3-5-sonnet', 'exact'],
    ['claude-opus-4', 'claude-opus-4-0', 'exact'],
    ['gpt-5-codex', 'gpt-5', 'exact'],
    // 2. normalised: Bedrock, Vertex, Gemini prefixes, [1m], -latest, dates
    ['us.anthropic.claude-opus-4-1-20250805-v1:0', 'claude-opus-4-1', 'alias'],
    ['anthropic.claude-3-haiku-20240307-v1:0', 'claude-3-haiku', 'alias'],
    ['global.anthropic.claude-sonnet-4-5-20250929-v1:0', 'claude-sonnet-4-5', 'alias'],
    ['claude-sonnet-4@20250514', 'claude-sonnet-4-0', 'alias'],
    ['claude-opus-4-1@20250805', 'claude-opus-4-1', 'alias'],
    ['models/gemini-2.5-pro', 'gemini-2.5-pro', 'alias'],
    ['claude-haiku-4-5-latest', 'claude-haiku-4-5', 'alias'],
    ['claude-sonnet-4-5[1m]', 'claude-sonnet-4-5', 'alias'],
    ['claude-sonnet-4-5-20250929[1M]', 'claude-sonnet-4-5', 'alias'],
    ['gpt-4o-2024-05-13', 'gpt-4o', 'alias'],
    // 3. family patterns
    ['claude-opus-7', 'claude-opus-5-5', 'family'],
    ['claude-opus-10-1', 'claude-opus-5-5', 'family'],
    ['claude-opus-4-9', 'claude-opus-4-8', 'family'],
    ['claude-sonnet-4-7-20260101', 'claude-sonnet-4-6', 'family'],
    ['us.anthropic.claude-haiku-6-v1:0', 'claude-haiku-5-5', 'family'],
    ['gemini-2.5-flash-lite-preview-09-2025', 'gemini-2.5-flash-lite', 'family'],
    ['gemini-2.5-flash-preview-05-20', 'gemini-2.5-flash', 'family'],
    ['gpt-5.2-codex-mini', 'gpt-5.1-codex-mini', 'family'],
    ['gpt-5.3', 'gpt-5', 'family'],
    // 4. fallback
    ['llama-3.1-70b', 'claude-sonnet-4-6', 'fallback'],
    ['', 'claude-sonnet-4-6', 'fallback'],
  ])('%s → %s (%s)', (model, pricedAs, source) => {
    const r = pricing.resolve(model);
    expect({ model: r.model, source: r.source }).toEqual({ model: pricedAs, source });
  });

  it.each([
    ['us.anthropic.claude-opus-4-1-20250805-v1:0', 'claude-opus-4-1'],
    ['claude-sonnet-4@20250514', 'claude-sonnet-4'],
    ['models/gemini-2.5-pro', 'gemini-2.5-pro'],
    ['claude-3-7-sonnet-latest', 'claude-3-7-sonnet'],
    ['claude-sonnet-4-5[1m]', 'claude-sonnet-4-5'],
    ['  GPT-4O-2024-08-06 ', 'gpt-4o'],
    ['claude-sonnet-4-5', 'claude-sonnet-4-5'],
  ])('normaliseModelName(%s) = %s', (raw, expected) => {
    expect(normaliseModelName(raw)).toBe(expected);
  });

  it('resolves the same name the same way twice (memo returns the right entry)', () => {
    const p = createPricing();
    expect(p.resolve('claude-opus-7').model).toBe('claude-opus-5-5');
    expect(p.resolve('claude-haiku-4-5').model).toBe('claude-haiku-4-5');
    expect(p.resolve('claude-opus-7').model).toBe('claude-opus-5-5');
  });
});

describe('cost in integer picodollars', () => {
  it.each<[string, string, Partial<TokenUsage>, number]>([
    [
      'sonnet $3/$15 input + output',
      'claude-sonnet-4-5',
      { inputTokens: 1000, outputTokens: 500 },
      1000 * pp(3) + 500 * pp(15),
    ],
    [
      'dated alias, same price',
      'claude-sonnet-4-5-20250929',
      { inputTokens: 1000, outputTokens: 500 },
      1000 * pp(3) + 500 * pp(15),
    ],
    ['sonnet 5m cache write = 1.25 × input', 'claude-sonnet-4-5', { cacheCreate5mTokens: 2000 }, 2000 * pp(3.75)],
    ['sonnet 1h cache write = 2 × input', 'claude-sonnet-4-5', { cacheCreate1hTokens: 1000 }, 1000 * pp(6)],
    ['sonnet cache read = 0.1 × input', 'claude-sonnet-4-5', { cacheReadTokens: 10_000 }, 10_000 * pp(0.3)],
    ['haiku 4.5 cache read = 0.1 × $1', 'claude-haiku-4-5', { cacheReadTokens: 7 }, 7 * pp(0.1)],
    [
      'opus 4.1 $15/$75, every kind at once',
      'claude-opus-4-1',
      { inputTokens: 100, outputTokens: 200, cacheCreate5mTokens: 300, cacheCreate1hTokens: 400, cacheReadTokens: 500 },
      100 * pp(15) + 200 * pp(75) + 300 * pp(18.75) + 400 * pp(30) + 500 * pp(1.5),
    ],
    // Listed cache prices win over the multipliers (3-haiku: 0.30 not 0.3125; 0.03 not 0.025).
    ['claude-3-haiku listed 5m write $0.30', 'claude-3-haiku', { cacheCreate5mTokens: 1000 }, 1000 * pp(0.3)],
    ['claude-3-haiku listed read $0.03', 'claude-3-haiku', { cacheReadTokens: 1000 }, 1000 * pp(0.03)],
    ['claude-opus-5-5 listed read $0.20 (not 0.1 × $4)', 'claude-opus-5-5', { cacheReadTokens: 1000 }, 1000 * pp(0.2)],
    [
      'claude-fable-5-2 listed read, default 5m write 1.25 × $8',
      'claude-fable-5-2',
      { cacheReadTokens: 1000, cacheCreate5mTokens: 1000 },
      1000 * pp(0.2) + 1000 * pp(10),
    ],
    [
      'non-Claude listed cache read (gpt-4.1 $0.50)',
      'gpt-4.1',
      { inputTokens: 1000, cacheReadTokens: 1000 },
      1000 * pp(2) + 1000 * pp(0.5),
    ],
    ['family-priced model (opus 5.5 at $4)', 'claude-opus-7', { inputTokens: 1000 }, 1000 * pp(4)],
    [
      'unknown model at the fallback (sonnet 4.6 $3/$15)',
      'llama-3.1-70b',
      { inputTokens: 1000, outputTokens: 1000 },
      1000 * pp(3) + 1000 * pp(15),
    ],
    ['no tokens, no cost', 'claude-opus-4-1', {}, 0],
  ])('%s', (_name, model, u, expected) => {
    expect(pricing.cost(model, usage(u)).costPico).toBe(expected);
  });

  it.each<[string, string, Partial<TokenUsage>, number]>([
    // claude-haiku-5-5: $0.1/$0.5, above 100k prompt tokens $0.5/$2.5 (cache prices follow the tier's input).
    ['haiku-5-5 at exactly 100k: base', 'claude-haiku-5-5', { inputTokens: 100_000 }, 100_000 * pp(0.1)],
    ['haiku-5-5 at 100,001: tier', 'claude-haiku-5-5', { inputTokens: 100_001 }, 100_001 * pp(0.5)],
    [
      'haiku-5-5 cache reads count toward the prompt',
      'claude-haiku-5-5',
      { inputTokens: 50_000, cacheReadTokens: 60_000, outputTokens: 1000 },
      50_000 * pp(0.5) + 60_000 * pp(0.05) + 1000 * pp(2.5),
    ],
    [
      'haiku-5-5 5m cache writes count toward the prompt',
      'claude-haiku-5-5',
      { inputTokens: 40_000, cacheCreate5mTokens: 70_000 },
      40_000 * pp(0.5) + 70_000 * pp(0.625),
    ],
    [
      'haiku-5-5 1h cache writes count toward the prompt',
      'claude-haiku-5-5',
      { inputTokens: 40_000, cacheCreate1hTokens: 70_000 },
      40_000 * pp(0.5) + 70_000 * pp(1),
    ],
    [
      'haiku-5-5 output alone never lifts the tier',
      'claude-haiku-5-5',
      { inputTokens: 10, outputTokens: 200_000 },
      10 * pp(0.1) + 200_000 * pp(0.5),
    ],
    // gemini-2.5-pro: $1.25/$10/read $0.125, above 200k $2.5/$15/read $0.25.
    [
      'gemini-2.5-pro at 190k prompt: base',
      'gemini-2.5-pro',
      { inputTokens: 150_000, cacheReadTokens: 40_000, outputTokens: 1000 },
      150_000 * pp(1.25) + 40_000 * pp(0.125) + 1000 * pp(10),
    ],
    [
      'gemini-2.5-pro at 210k prompt: tier',
      'gemini-2.5-pro',
      { inputTokens: 150_000, cacheReadTokens: 60_000, outputTokens: 1000 },
      150_000 * pp(2.5) + 60_000 * pp(0.25) + 1000 * pp(15),
    ],
    ['gemini-2.5-pro at exactly 200k: base', 'gemini-2.5-pro', { inputTokens: 200_000 }, 200_000 * pp(1.25)],
    [
      'gemini-2.5-pro via models/ prefix at 200,001: tier',
      'models/gemini-2.5-pro',
      { inputTokens: 200_001 },
      200_001 * pp(2.5),
    ],
  ])('tiers: %s', (_name, model, u, expected) => {
    expect(pricing.cost(model, usage(u)).costPico).toBe(expected);
  });

  it.each<[string, string, Partial<TokenUsage>, number]>([
    [
      'fast on opus-4-8 (fast: 6)',
      'claude-opus-4-8',
      { inputTokens: 1000, outputTokens: 100, speed: 'fast' },
      (1000 * pp(5) + 100 * pp(25)) * 6,
    ],
    [
      'standard speed on opus-4-8',
      'claude-opus-4-8',
      { inputTokens: 1000, outputTokens: 100, speed: 'standard' },
      1000 * pp(5) + 100 * pp(25),
    ],
    [
      'fast on a model without a fast price',
      'claude-opus-4-7',
      { inputTokens: 1000, outputTokens: 100, speed: 'fast' },
      1000 * pp(5) + 100 * pp(25),
    ],
    ['fast scales cache tokens too', 'claude-opus-4-8', { cacheReadTokens: 1000, speed: 'fast' }, 1000 * pp(0.5) * 6],
    [
      'inference_geo us: 1.1×',
      'claude-sonnet-4-5',
      { inputTokens: 1000, outputTokens: 500, inferenceGeo: 'us' },
      (1000 * pp(3) + 500 * pp(15)) * 1.1,
    ],
    [
      'inference_geo us scales cache reads',
      'claude-sonnet-4-5',
      { cacheReadTokens: 10_000, inferenceGeo: 'us' },
      10_000 * pp(0.3) * 1.1,
    ],
    [
      'inference_geo global: 1×',
      'claude-sonnet-4-5',
      { inputTokens: 1000, outputTokens: 500, inferenceGeo: 'global' },
      1000 * pp(3) + 500 * pp(15),
    ],
    ['web search $0.01 each', 'claude-sonnet-4-5', { webSearchRequests: 3 }, 3 * 0.01 * 1e12],
    [
      'web search plus tokens',
      'claude-sonnet-4-5',
      { inputTokens: 1000, webSearchRequests: 1 },
      1000 * pp(3) + 0.01 * 1e12,
    ],
  ])('modifiers: %s', (_name, model, u, expected) => {
    expect(pricing.cost(model, usage(u)).costPico).toBe(Math.round(expected));
  });

  it('every cost is an exact integer, whatever the mix', () => {
    const models = [
      'claude-sonnet-4-5',
      'claude-3-5-haiku',
      'claude-haiku-5-5',
      'gemini-2.5-pro',
      'gpt-5-nano',
      'claude-opus-4-8',
    ];
    for (const model of models) {
      for (const n of [1, 7, 333, 99_999, 123_457]) {
        const u = usage({
          inputTokens: n,
          outputTokens: n + 1,
          cacheCreate5mTokens: n * 3,
          cacheCreate1hTokens: 11,
          cacheReadTokens: n * 2,
          webSearchRequests: 1,
          speed: 'fast',
          inferenceGeo: 'us',
        });
        expect(Number.isInteger(pricing.cost(model, u).costPico), `${model} × ${n}`).toBe(true);
      }
    }
  });

  it('reports what the price came from', () => {
    expect(pricing.cost('claude-opus-7', usage({ inputTokens: 1 }))).toMatchObject({
      pricedAs: 'claude-opus-5-5',
      source: 'family',
    });
    expect(pricing.cost('mystery', usage({ inputTokens: 1 }))).toMatchObject({
      pricedAs: 'claude-sonnet-4-6',
      source: 'fallback',
    });
  });

  it('picoToUsd', () => {
    expect(picoToUsd(1000 * pp(3) + 500 * pp(15))).toBeCloseTo(0.0105, 12);
    expect(picoToUsd(10n ** 12n)).toBe(1);
  });
});

describe('a table with explicit cache prices and a non-Claude platform', () => {
  const table: PricingTableJson = {
    version: 'test',
    fallback: 'claude-x',
    models: {
      'claude-x': { platform: 'claude', input: 2, output: 8, cacheWrite5m: 2.2, cacheWrite1h: 3.3, cacheRead: 0.4 },
      'other-y': { platform: 'openai', input: 2, output: 8 },
    },
  };
  const p = createPricing(table);

  it.each<[string, string, Partial<TokenUsage>, number]>([
    ['explicit 5m write', 'claude-x', { cacheCreate5mTokens: 1000 }, 1000 * pp(2.2)],
    ['explicit 1h write', 'claude-x', { cacheCreate1hTokens: 1000 }, 1000 * pp(3.3)],
    ['explicit read', 'claude-x', { cacheReadTokens: 1000 }, 1000 * pp(0.4)],
    // Non-Claude entries without cache prices charge cache tokens at the input price.
    ['non-Claude default read = input', 'other-y', { cacheReadTokens: 1000 }, 1000 * pp(2)],
    ['non-Claude default write = input', 'other-y', { cacheCreate5mTokens: 1000 }, 1000 * pp(2)],
  ])('%s', (_name, model, u, expected) => {
    expect(p.cost(model, usage(u)).costPico).toBe(expected);
  });

  it('models(platform) filters by platform, in table order', () => {
    expect(p.models()).toEqual(['claude-x', 'other-y']);
    expect(p.models('openai')).toEqual(['other-y']);
  });
});

describe('the shipped table', () => {
  const table = shipped as PricingTableJson;

  it('passes validateTable', () => {
    expect(() => validateTable(shipped)).not.toThrow();
  });

  it('fallback and every family model exist', () => {
    expect(table.models[table.fallback]).toBeDefined();
    for (const f of table.families ?? []) expect(table.models[f.model], f.pattern).toBeDefined();
  });

  it('no price is below zero (tiers included)', () => {
    const prices = Object.entries(table.models).flatMap(([name, e]) =>
      [e, ...(e.tiers ?? [])].flatMap((sheet) =>
        Object.entries(sheet)
          .filter(([, v]) => typeof v === 'number')
          .map(([k, v]) => [`${name}.${k}`, v as number] as const),
      ),
    );
    expect(prices.length).toBeGreaterThan(100);
    expect(prices.filter(([, v]) => !(v >= 0))).toEqual([]);
  });

  it('every model resolves to itself and every alias to the model that lists it', () => {
    for (const [name, e] of Object.entries(table.models)) {
      expect(pricing.resolve(name).model).toBe(name);
      for (const alias of e.aliases ?? []) expect(pricing.resolve(alias).model, alias).toBe(name);
    }
  });

  it('models("claude") lists Claude entries only', () => {
    const claude = pricing.models('claude');
    expect(claude).toContain('claude-sonnet-4-5');
    expect(claude.every((m) => m.startsWith('claude-'))).toBe(true);
  });
});

describe('validateTable rejects bad tables', () => {
  const good = (): Record<string, unknown> => ({
    version: 't',
    fallback: 'm',
    families: [{ pattern: '^m-', model: 'm' }],
    models: { m: { input: 1, output: 2 } },
  });
  const withModel = (entry: unknown) => ({ ...good(), models: { m: entry } });

  it('accepts the minimal good table', () => {
    expect(validateTable(good())).toMatchObject({ version: 't', fallback: 'm' });
  });

  it.each<[string, unknown]>([
    ['null', null],
    ['no models', { fallback: 'm' }],
    ['missing fallback', { ...good(), fallback: undefined }],
    ['fallback names an unknown model', { ...good(), fallback: 'nope' }],
    ['negative input', withModel({ input: -1, output: 2 })],
    ['output not a number', withModel({ input: 1, output: '2' })],
    ['missing output', withModel({ input: 1 })],
    ['negative cacheRead', withModel({ input: 1, output: 2, cacheRead: -0.1 })],
    ['negative cacheWrite1h', withModel({ input: 1, output: 2, cacheWrite1h: -2 })],
    ['negative webSearch', withModel({ input: 1, output: 2, webSearch: -0.01 })],
    ['negative fast', withModel({ input: 1, output: 2, fast: -6 })],
    ['invalid family regex', { ...good(), families: [{ pattern: '^claude-(', model: 'm' }] }],
    ['family points at an unknown model', { ...good(), families: [{ pattern: '^x', model: 'x' }] }],
    [
      'negative tier price',
      withModel({ input: 1, output: 2, tiers: [{ aboveInputTokens: 1000, input: -1, output: 2 }] }),
    ],
    ['a model entry that is not an object', withModel(null)],
  ])('%s', (_name, table) => {
    expect(() => validateTable(table)).toThrow(PricingTableError);
  });
});

describe('fromLiteLLM', () => {
  // Per-token USD prices, as in LiteLLM's model_prices_and_context_window.json.
  const litellm: Record<string, Record<string, unknown>> = {
    sample_spec: { litellm_provider: 'one of https://docs.litellm.ai/docs/providers', input_cost_per_token: 0 },
    'claude-sonnet-4-5': {
      litellm_provider: 'anthropic',
      mode: 'chat',
      input_cost_per_token: 3e-6,
      output_cost_per_token: 1.5e-5,
      cache_creation_input_token_cost: 3.75e-6,
      cache_creation_input_token_cost_above_1hr: 6e-6,
      cache_read_input_token_cost: 3e-7,
    },
    'gemini/gemini-2.5-pro': {
      litellm_provider: 'gemini',
      mode: 'chat',
      input_cost_per_token: 1.25e-6,
      output_cost_per_token: 1e-5,
      cache_read_input_token_cost: 1.25e-7,
      input_cost_per_token_above_200k_tokens: 2.5e-6,
      output_cost_per_token_above_200k_tokens: 1.5e-5,
      cache_read_input_token_cost_above_200k_tokens: 2.5e-7,
    },
    'o4-mini': {
      litellm_provider: 'openai',
      mode: 'chat',
      input_cost_per_token: 1.1e-6,
      output_cost_per_token: 4.4e-6,
      cache_read_input_token_cost: 2.75e-7,
    },
    'text-embedding-3-small': { litellm_provider: 'openai', mode: 'embedding', input_cost_per_token: 2e-8 },
    'mistral/mistral-large-latest': {
      litellm_provider: 'mistral',
      input_cost_per_token: 2e-6,
      output_cost_per_token: 6e-6,
    },
    'gpt-unpriced': { litellm_provider: 'openai', mode: 'chat' },
  };
  const table = fromLiteLLM(litellm);

  it('converts per-token prices to exact per-million prices', () => {
    expect(table.models['claude-sonnet-4-5']).toEqual({
      platform: 'claude',
      input: 3,
      output: 15,
      cacheWrite5m: 3.75,
      cacheWrite1h: 6,
      cacheRead: 0.3,
    });
    expect(table.models['o4-mini']).toEqual({ platform: 'openai', input: 1.1, output: 4.4, cacheRead: 0.275 });
    expect(table.models['text-embedding-3-small']).toEqual({ platform: 'openai', input: 0.02, output: 0 });
  });

  it('strips the provider prefix and keeps the above-200k tier', () => {
    expect(table.models['gemini-2.5-pro']).toMatchObject({
      platform: 'gemini',
      input: 1.25,
      output: 10,
      cacheRead: 0.125,
    });
    expect(table.models['gemini-2.5-pro']?.tiers).toEqual([
      expect.objectContaining({ aboveInputTokens: 200_000, input: 2.5, output: 15 }),
    ]);
  });

  it('skips the sample spec, other providers and unpriced entries', () => {
    expect(Object.keys(table.models)).not.toContain('sample_spec');
    expect(Object.keys(table.models).some((k) => k.includes('mistral'))).toBe(false);
    expect(table.models['gpt-unpriced']).toBeUndefined();
  });

  it('yields a valid table: fallback and family models filled in from the shipped table', () => {
    const valid = validateTable(table);
    // The converted table keeps the shipped table's fallback rule.
    expect(valid.fallback).toBe(createPricing().resolve('no-such-model-anywhere').model);
    for (const f of valid.families ?? []) expect(valid.models[f.model], f.model).toBeDefined();
  });

  it('prices like the source: sonnet $3/$15 and gemini-2.5-pro above 200k with cache reads', () => {
    const p = createPricing(table);
    expect(p.cost('claude-sonnet-4-5-20250929', usage({ inputTokens: 1000, outputTokens: 500 })).costPico).toBe(
      1000 * pp(3) + 500 * pp(15),
    );
    // Above 200k LiteLLM lists the cache read at $0.25/M; it must not become the $2.5/M input price.
    expect(
      p.cost('gemini-2.5-pro', usage({ inputTokens: 150_000, cacheReadTokens: 60_000, outputTokens: 1000 })).costPico,
    ).toBe(150_000 * pp(2.5) + 60_000 * pp(0.25) + 1000 * pp(15));
  });
});
