import shipped from '../usage/pricing.json' with { type: 'json' };
import { createPricing, fromLiteLLM, validateTable, type PricingTableJson } from '../usage/pricing.js';
import { CliError } from './errors.js';

/**
 * A pricing document fetched for `crs pricing refresh`: our own table format (`crs`, as in
 * src/usage/pricing.json) or LiteLLM's model_prices_and_context_window.json, turned into a
 * validated table.
 */
export type PricingFormat = 'crs' | 'litellm';
export const FORMATS = ['auto', 'crs', 'litellm'] as const;

/** Largest document accepted (LiteLLM's is a few MB). */
const MAX_BYTES = 64 * 1024 * 1024;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function detectFormat(doc: unknown): PricingFormat | undefined {
  if (!isObject(doc)) return undefined;
  if (isObject(doc.models) && typeof doc.fallback === 'string') return 'crs';
  if (Object.values(doc).some((e) => isObject(e) && ('litellm_provider' in e || 'input_cost_per_token' in e)))
    return 'litellm';
  return undefined;
}

export async function download(url: string, timeoutMs = 60_000): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
  } catch (err) {
    const cause = (err as Error).cause as NodeJS.ErrnoException | undefined;
    const why =
      (err as Error).name === 'TimeoutError'
        ? `no answer within ${timeoutMs / 1000}s`
        : (cause?.code ?? cause?.message ?? (err as Error).message);
    throw new CliError(`Cannot download ${url}: ${why}.`, 1, { cause: err });
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new CliError(`Cannot download ${url}: HTTP ${res.status} ${res.statusText}.`);
  }
  if (Number(res.headers.get('content-length') ?? 0) > MAX_BYTES) {
    await res.body?.cancel();
    throw new CliError(`${url} is larger than ${MAX_BYTES / 1024 / 1024} MB; not a pricing table.`);
  }
  const text = await res.text();
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new CliError(`${url} is not JSON (${(err as Error).message.replace(/\s+/g, ' ')}).`, 1, { cause: err });
  }
}

export interface ConvertedTable {
  format: PricingFormat;
  /** What `--write` writes: the document itself (crs) or the converted table (LiteLLM). */
  document: Record<string, unknown>;
  table: PricingTableJson;
}

/** The shipped table's fallback model, kept when converting LiteLLM's list (which has none). */
export const shippedTable = (): PricingTableJson => validateTable(shipped);

export function convert(doc: unknown, requested: (typeof FORMATS)[number], source: string): ConvertedTable {
  const detected = detectFormat(doc);
  const format = requested === 'auto' ? detected : requested;
  if (!format) {
    throw new CliError(
      `${source} is neither a crs pricing table (with "models" and "fallback") nor LiteLLM's model_prices_and_context_window.json.`,
    );
  }
  if (!isObject(doc)) throw new CliError(`${source} is not a JSON object.`);
  if (format === 'crs') {
    const table = validateTable(doc);
    createPricing(table);
    return { format, document: doc, table };
  }
  if (detected !== 'litellm')
    throw new CliError(`${source} has no LiteLLM price entries (objects with input_cost_per_token).`);
  const converted = fromLiteLLM(doc as Record<string, Record<string, unknown>>, shippedTable().fallback);
  const table = validateTable(converted);
  createPricing(table);
  const document = {
    version: table.version,
    currency: 'USD',
    unit: 'USD per million tokens',
    notes: `Converted from LiteLLM's price list (${source}) by crs pricing refresh. Families and the fallback model come from the shipped table.`,
    fallback: table.fallback,
    families: table.families,
    models: table.models,
  };
  return { format, document, table };
}
