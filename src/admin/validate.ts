import { RelayError } from '../errors/catalogue.js';

/** Small, explicit validators for admin payloads; each failure names the field. */
export type Json = Record<string, unknown>;

export function invalid(message: string): RelayError {
  return new RelayError('admin_invalid', { message });
}

export function asObject(value: unknown): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid('The request body must be a JSON object.');
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
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw invalid(`${field}: expected an integer from ${min} to ${max}.`);
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
