import { RelayError } from '../errors/catalogue.js';

/** Small, explicit validators for admin payloads; each failure names the field. */
export type Json = Record<string, unknown>;

export function invalid(message: string): RelayError {
  return new RelayError('admin_invalid', { message });
}

export function asObject(value: unknown): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid('The request body must be a JSON object.');
  return value as Json;
}

export function optString(body: Json, field: string, opts: { max?: number; min?: number } = {}): string | undefined {
  const v = body[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw invalid(`${field}: expected a string.`);
  const s = v.trim();
  if (opts.min !== undefined && s.length < opts.min) throw invalid(`${field}: at least ${opts.min} characters.`);
  if (s.length > (opts.max ?? 500)) throw invalid(`${field}: at most ${opts.max ?? 500} characters.`);
  return s;
}

export function reqString(body: Json, field: string, opts: { max?: number; min?: number } = {}): string {
  const s = optString(body, field, { min: 1, ...opts });
  if (s === undefined) throw invalid(`${field}: required.`);
  return s;
}

export function optBool(body: Json, field: string): boolean | undefined {
  const v = body[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw invalid(`${field}: expected true or false.`);
  return v;
}

export function optInt(body: Json, field: string, min: number, max: number): number | undefined {
  const v = body[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    throw invalid(`${field}: expected an integer from ${min} to ${max}.`);
  return v;
}

/** An ISO date string or epoch milliseconds; null clears. Returns epoch ms. */
export function optTime(body: Json, field: string): number | null | undefined {
  const v = body[field];
  if (v === undefined) return undefined;
  if (v === null) return null;
  const ms = typeof v === 'number' ? v : typeof v === 'string' ? Date.parse(v) : NaN;
  if (!Number.isFinite(ms)) throw invalid(`${field}: expected an ISO date, epoch milliseconds or null.`);
  return ms;
}

export function optUrl(body: Json, field: string): string | undefined {
  const s = optString(body, field, { max: 2000 });
  if (s === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    throw invalid(`${field}: not a URL.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid(`${field}: must be http(s).`);
  return s.replace(/\/+$/, '');
}

/** Refuses fields the endpoint does not know, so typos do not pass silently. */
export function onlyFields(body: Json, allowed: readonly string[]): void {
  for (const k of Object.keys(body)) if (!allowed.includes(k)) throw invalid(`Unknown field: ${k}.`);
}

export function optNumber(body: Json, field: string, min: number, max: number): number | undefined {
  const v = body[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max)
    throw invalid(`${field}: expected a number from ${min} to ${max}.`);
  return v;
}

export function optEnum<T extends string>(body: Json, field: string, allowed: readonly T[]): T | undefined {
  const v = body[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !allowed.includes(v as T))
    throw invalid(`${field}: expected one of ${allowed.join(', ')}.`);
  return v as T;
}

/** A list of strings; `allowed` restricts the values, `max` the length of the list. */
export function optStringList(
  body: Json,
  field: string,
  opts: { allowed?: readonly string[]; max?: number; itemMax?: number; pattern?: RegExp } = {},
): string[] | undefined {
  const v = body[field];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))
    throw invalid(`${field}: expected a list of strings.`);
  const list = [...new Set((v as string[]).map((s) => s.trim()).filter(Boolean))];
  if (list.length > (opts.max ?? 200)) throw invalid(`${field}: at most ${opts.max ?? 200} entries.`);
  for (const item of list) {
    if (item.length > (opts.itemMax ?? 200)) throw invalid(`${field}: "${item.slice(0, 40)}…" is too long.`);
    if (opts.allowed && !opts.allowed.includes(item))
      throw invalid(`${field}: "${item}" is not one of ${opts.allowed.join(', ')}.`);
    if (opts.pattern && !opts.pattern.test(item)) throw invalid(`${field}: "${item}" is not a valid id.`);
  }
  return list;
}

/**
 * An allow list: null (or absent on create) for "any"; otherwise the only values allowed. An
 * empty list is refused: it would refuse every request, and nobody means that.
 */
export function optAllowList(
  body: Json,
  field: string,
  opts: { allowed?: readonly string[]; what: string },
): string[] | null | undefined {
  if (body[field] === null) return null;
  const list = optStringList(body, field, opts);
  if (list !== undefined && list.length === 0) {
    throw invalid(`${field}: an empty list would allow no ${opts.what}; send null (or leave it out) to allow any.`);
  }
  return list;
}

/** An object of string → string (model mappings). */
export function optStringMap(body: Json, field: string, max = 200): Record<string, string> | undefined {
  const v = body[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw invalid(`${field}: expected an object of strings.`);
  const entries = Object.entries(v as Record<string, unknown>);
  if (entries.length > max) throw invalid(`${field}: at most ${max} entries.`);
  const out: Record<string, string> = {};
  for (const [k, val] of entries) {
    if (typeof val !== 'string' || !k.trim() || !val.trim() || k.length > 200 || val.length > 200)
      throw invalid(`${field}: "${k}" must map to a non-empty model name.`);
    out[k.trim()] = val.trim();
  }
  return out;
}
