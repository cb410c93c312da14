import shipped from './pricing.json' with { type: 'json' };

/**
 * The pricing table and the cost rule.
 *
 * Prices in the table are USD per million tokens. Internally they become integer picodollars
 * (1e-12 USD) per token, so every cost is an exact integer and sums in Redis never drift:
 * $3/M = 3,000,000 p$/token, $0.3125/M = 312,500 p$/token.
 *
 * How a model name finds its price (stated rule, in order):
 *  1. the exact id or one of its aliases;
 *  2. the id normalised: lower case, Bedrock/Vertex decorations (`us.anthropic.…-v1:0`,
 *     `…@20250514`), `models/` prefix, `[1m]`, `-latest` and a trailing `-YYYYMMDD` removed;
 *  3. the first family pattern that matches (e.g. any `claude-sonnet-4*` → claude-sonnet-4-5);
 *  4. the table's `fallback` entry (Sonnet-class prices). The booking is marked `fallback` so an
 *     admin can see which requests were priced by the rule rather than the table.
 * Tokens are always booked exactly; only the price can come from a rule.
 */

export interface PriceSheet {
  /** Picodollars per token (webSearch: per search). */
  input: number;
  output: number;
  cacheWrite5m: number;
  cacheWrite1h: number;
  cacheRead: number;
  webSearch: number;
}

interface TableTier extends Partial<Omit<PriceSheet, 'input' | 'output'>> {
  aboveInputTokens: number;
  input: number;
  output: number;
}

export interface TableEntry {
  platform?: string;
  input: number;
  output: number;
  cacheWrite5m?: number;
  cacheWrite1h?: number;
  cacheRead?: number;
  /** USD per server-side web search. */
  webSearch?: number;
  /** Price multiplier when the upstream reports `speed: "fast"`. */
  fast?: number;
  aliases?: string[];
  tiers?: TableTier[];
}

export interface PricingTableJson {
  version: string;
  fallback: string;
  families?: { pattern: string; model: string }[];
  models: Record<string, TableEntry>;
}

export type PriceSource = 'exact' | 'alias' | 'family' | 'fallback';

export interface ResolvedPrice {
  /** The table entry used. */
  model: string;
  source: PriceSource;
  base: PriceSheet;
  tiers: { aboveInputTokens: number; sheet: PriceSheet }[];
  fast: number;
}

/** What one upstream call consumed, in the upstream's own numbers, normalised across platforms. */
export interface TokenUsage {
  /** Input tokens not read from or written to a cache. */
  inputTokens: number;
  outputTokens: number;
  cacheCreate5mTokens: number;
  cacheCreate1hTokens: number;
  cacheReadTokens: number;
  webSearchRequests: number;
  /** Pricing modifiers the upstream reports (Anthropic `usage.speed`, `usage.inference_geo`). */
  speed?: string;
  inferenceGeo?: string;
}

export const ZERO_USAGE: Readonly<TokenUsage> = Object.freeze({
  inputTokens: 0,
  outputTokens: 0,
  cacheCreate5mTokens: 0,
  cacheCreate1hTokens: 0,
  cacheReadTokens: 0,
  webSearchRequests: 0,
});

/** Anthropic charges 1.1x for requests pinned to US-only inference. */
const US_GEO_MULTIPLIER = 1.1;

export interface Pricing {
  readonly version: string;
  /** Model ids in the table (of one platform), in table order. */
  models(platform?: string): string[];
  resolve(model: string): ResolvedPrice;
  /** Exact cost in picodollars, and where its price came from. */
  cost(model: string, usage: TokenUsage): { costPico: number; pricedAs: string; source: PriceSource };
}

const PICO_PER_USD_PER_MILLION = 1_000_000;
const toPico = (usdPerMillion: number) => Math.round(usdPerMillion * PICO_PER_USD_PER_MILLION);

export class PricingTableError extends Error {}

function sheetOf(entry: Omit<TableEntry, 'aliases' | 'tiers'>, isClaude: boolean, webSearch: number): PriceSheet {
  // Claude's published cache prices are these multiples of input; others default to input
  // (writes) and input (reads) unless the table says otherwise.
  const write5m = entry.cacheWrite5m ?? (isClaude ? entry.input * 1.25 : entry.input);
  const write1h = entry.cacheWrite1h ?? (isClaude ? entry.input * 2 : entry.input);
  const read = entry.cacheRead ?? (isClaude ? entry.input * 0.1 : entry.input);
  return {
    input: toPico(entry.input),
    output: toPico(entry.output),
    cacheWrite5m: toPico(write5m),
    cacheWrite1h: toPico(write1h),
    cacheRead: toPico(read),
    webSearch: Math.round(webSearch * 1e12),
  };
}

export function validateTable(json: unknown): PricingTableJson {
  const t = json as PricingTableJson;
  if (!t || typeof t !== 'object' || typeof t.models !== 'object' || t.models === null) {
    throw new PricingTableError('pricing table needs a "models" object');
  }
  const prices = (
    where: string,
    e: Record<string, unknown>,
    required: readonly string[],
    optional: readonly string[],
  ) => {
    for (const k of required) {
      if (typeof e[k] !== 'number' || !((e[k] as number) >= 0))
        throw new PricingTableError(`${where}: "${k}" must be a non-negative number`);
    }
    for (const k of optional) {
      if (e[k] !== undefined && !(typeof e[k] === 'number' && (e[k] as number) >= 0))
        throw new PricingTableError(`${where}: "${k}" must be a non-negative number`);
    }
  };
  for (const [name, e] of Object.entries(t.models)) {
    if (typeof e !== 'object' || e === null || Array.isArray(e))
      throw new PricingTableError(`model ${name}: expected an object of prices`);
    prices(
      `model ${name}`,
      e as unknown as Record<string, unknown>,
      ['input', 'output'],
      ['cacheWrite5m', 'cacheWrite1h', 'cacheRead', 'webSearch', 'fast'],
    );
    if (e.tiers !== undefined && !Array.isArray(e.tiers))
      throw new PricingTableError(`model ${name}: "tiers" must be a list`);
    for (const [i, tier] of (e.tiers ?? []).entries()) {
      if (typeof tier !== 'object' || tier === null)
        throw new PricingTableError(`model ${name} tier ${i}: expected an object`);
      prices(
        `model ${name} tier ${i}`,
        tier as unknown as Record<string, unknown>,
        ['aboveInputTokens', 'input', 'output'],
        ['cacheWrite5m', 'cacheWrite1h', 'cacheRead'],
      );
    }
  }
  if (typeof t.fallback !== 'string' || !t.models[t.fallback]) {
    throw new PricingTableError(`"fallback" must name a model in the table`);
  }
  for (const f of t.families ?? []) {
    try {
      new RegExp(f.pattern);
    } catch {
      throw new PricingTableError(`family pattern ${f.pattern} is not a valid regular expression`);
    }
    if (!t.models[f.model]) throw new PricingTableError(`family ${f.pattern} points at unknown model ${f.model}`);
  }
  return {
    version: String(t.version ?? 'unversioned'),
    fallback: t.fallback,
    families: t.families ?? [],
    models: t.models,
  };
}

export function normaliseModelName(model: string): string {
  let m = model.trim().toLowerCase();
  m = m.replace(/^models\//, '');
  m = m.replace(/^(?:us-gov|us|eu|apac|global|jp|au)\./, '').replace(/^anthropic\./, '');
  m = m.replace(/-v\d+(?::\d+)?$/, '');
  m = m.replace(/@\d{8}$/, '');
  m = m.replace(/\[1m\]$/, '');
  m = m.replace(/-latest$/, '');
  m = m.replace(/-\d{8}$/, '');
  m = m.replace(/-\d{4}-\d{2}-\d{2}$/, '');
  return m;
}

export function createPricing(json: unknown = shipped): Pricing {
  const table = validateTable(json);
  const sheets = new Map<string, ResolvedPrice>();
  const lookup = new Map<string, string>();
  for (const [name, entry] of Object.entries(table.models)) {
    const isClaude = (entry.platform ?? (name.startsWith('claude') ? 'claude' : '')) === 'claude';
    const resolved: ResolvedPrice = {
      model: name,
      source: 'exact',
      base: sheetOf(entry, isClaude, entry.webSearch ?? 0),
      tiers: (entry.tiers ?? [])
        .map((t) => ({
          aboveInputTokens: t.aboveInputTokens,
          sheet: sheetOf({ ...t }, isClaude, entry.webSearch ?? 0),
        }))
        .sort((a, b) => b.aboveInputTokens - a.aboveInputTokens),
      fast: entry.fast ?? 1,
    };
    sheets.set(name, resolved);
    lookup.set(name.toLowerCase(), name);
    for (const alias of entry.aliases ?? []) lookup.set(alias.toLowerCase(), name);
  }
  const families = (table.families ?? []).map((f) => ({ re: new RegExp(f.pattern), model: f.model }));
  const memo = new Map<string, ResolvedPrice>();

  const resolveUncached = (model: string): ResolvedPrice => {
    const at = (name: string, source: PriceSource): ResolvedPrice => ({
      ...(sheets.get(name) as ResolvedPrice),
      source,
    });
    const exact = lookup.get(model.trim().toLowerCase());
    if (exact) return at(exact, 'exact');
    const normalised = normaliseModelName(model);
    const alias = lookup.get(normalised);
    if (alias) return at(alias, 'alias');
    const family = families.find((f) => f.re.test(normalised));
    if (family) return at(family.model, 'family');
    return at(table.fallback, 'fallback');
  };

  const resolve = (model: string): ResolvedPrice => {
    let r = memo.get(model);
    if (!r) {
      r = resolveUncached(model);
      if (memo.size > 10_000) memo.clear();
      memo.set(model, r);
    }
    return r;
  };

  return {
    version: table.version,
    models: (platform) =>
      Object.entries(table.models)
        .filter(([, e]) => platform === undefined || e.platform === platform)
        .map(([name]) => name),
    resolve,
    cost(model, u) {
      const price = resolve(model);
      const prompt = u.inputTokens + u.cacheCreate5mTokens + u.cacheCreate1hTokens + u.cacheReadTokens;
      const sheet = price.tiers.find((t) => prompt > t.aboveInputTokens)?.sheet ?? price.base;
      let tokens =
        u.inputTokens * sheet.input +
        u.outputTokens * sheet.output +
        u.cacheCreate5mTokens * sheet.cacheWrite5m +
        u.cacheCreate1hTokens * sheet.cacheWrite1h +
        u.cacheReadTokens * sheet.cacheRead;
      if (u.speed === 'fast') tokens *= price.fast;
      if (u.inferenceGeo === 'us') tokens *= US_GEO_MULTIPLIER;
      const costPico = Math.round(tokens) + u.webSearchRequests * sheet.webSearch;
      return { costPico, pricedAs: price.model, source: price.source };
    },
  };
}

/** Picodollars → USD as a number (for display; bookings stay integers). */
export const picoToUsd = (pico: number | bigint): number => Number(pico) / 1e12;

/**
 * Converts a LiteLLM `model_prices_and_context_window.json` (per-token USD prices) into our table
 * format, keeping only chat/embedding models of the platforms we serve.
 */
export function fromLiteLLM(
  json: Record<string, Record<string, unknown>>,
  fallback = (shipped as PricingTableJson).fallback,
): PricingTableJson {
  const models: Record<string, TableEntry> = {};
  const firstParty = new Set<string>();
  const perMillion = (v: unknown) => (typeof v === 'number' ? Math.round(v * 1e6 * 1e6) / 1e6 : undefined);
  for (const [name, e] of Object.entries(json)) {
    if (name === 'sample_spec' || typeof e !== 'object' || e === null) continue;
    const mode = typeof e.mode === 'string' ? e.mode : 'chat';
    if (mode !== 'chat' && mode !== 'embedding' && mode !== 'responses' && mode !== 'completion') continue;
    const provider = String(e.litellm_provider ?? '');
    const platform = provider.includes('anthropic')
      ? 'claude'
      : provider === 'gemini' || provider.startsWith('vertex_ai')
        ? 'gemini'
        : provider === 'openai'
          ? 'openai'
          : provider === 'azure'
            ? 'azure'
            : provider === 'bedrock' || provider === 'bedrock_converse'
              ? 'bedrock'
              : '';
    if (!platform) continue;
    const input = perMillion(e.input_cost_per_token);
    const output = perMillion(e.output_cost_per_token) ?? 0;
    if (input === undefined) continue;
    const entry: TableEntry = { platform, input, output };
    const w5 = perMillion(e.cache_creation_input_token_cost);
    const w1 = perMillion(e.cache_creation_input_token_cost_above_1hr);
    const r = perMillion(e.cache_read_input_token_cost);
    if (w5 !== undefined) entry.cacheWrite5m = w5;
    if (w1 !== undefined) entry.cacheWrite1h = w1;
    if (r !== undefined) entry.cacheRead = r;
    const in200 = perMillion(e.input_cost_per_token_above_200k_tokens);
    const out200 = perMillion(e.output_cost_per_token_above_200k_tokens);
    if (in200 !== undefined && out200 !== undefined) {
      const tier: TableTier = { aboveInputTokens: 200_000, input: in200, output: out200 };
      const read200 = perMillion(e.cache_read_input_token_cost_above_200k_tokens);
      const write200 = perMillion(e.cache_creation_input_token_cost_above_200k_tokens);
      if (read200 !== undefined) tier.cacheRead = read200;
      if (write200 !== undefined) tier.cacheWrite5m = write200;
      entry.tiers = [tier];
    }
    // A model's own vendor's price wins over a reseller's entry with the same name.
    const id = name.replace(/^(?:gemini|vertex_ai|anthropic|openai|azure|bedrock)\//, '');
    const isFirstParty = provider === 'anthropic' || provider === 'openai' || provider === 'gemini';
    if (models[id] && firstParty.has(id) && !isFirstParty) continue;
    if (isFirstParty) firstParty.add(id);
    models[id] = entry;
  }
  const table = {
    version: new Date().toISOString().slice(0, 10),
    fallback,
    families: (shipped as PricingTableJson).families ?? [],
    models,
  };
  if (!models[fallback]) models[fallback] = (shipped as PricingTableJson).models[fallback] as TableEntry;
  for (const f of table.families)
    if (!models[f.model]) models[f.model] = (shipped as PricingTableJson).models[f.model] as TableEntry;
  return table;
}
