import { parseArgs } from 'node:util';
import { usageError } from './errors.js';

export type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string }>;
export type Values = Record<string, string | boolean | undefined>;

/** Options every command takes. */
export const COMMON_OPTIONS: OptionSpec = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

/** Strict argv parsing: unknown flags and missing values are usage errors, not silently ignored. */
export function parseCommandLine(args: string[], options: OptionSpec): { values: Values; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args, options: { ...COMMON_OPTIONS, ...options }, allowPositionals: true, strict: true });
    return { values: values as Values, positionals };
  } catch (err) {
    const message = (err as Error).message.replace(/\. To specify a positional argument.*$/s, '.');
    throw usageError(message);
  }
}

export function str(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

/** `--active true|false` as a boolean (the payload validators want JSON types). */
export function boolFlag(values: Values, name: string): boolean | undefined {
  const v = str(values, name);
  if (v === undefined) return undefined;
  const s = v.trim().toLowerCase();
  if (s === 'true') return true;
  if (s === 'false') return false;
  throw usageError(`--${name}: expected true or false, got "${v}".`);
}

/** An integer flag; anything else is passed on unchanged for the validator to refuse by name. */
export function intFlag(values: Values, name: string): number | string | undefined {
  const v = str(values, name);
  if (v === undefined) return undefined;
  return /^\s*-?\d+\s*$/.test(v) ? Number(v) : v;
}

/** `--expires ISO|epoch-ms|never` → epoch ms or null. */
export function expiresFlag(values: Values): number | null | undefined {
  const v = str(values, 'expires')?.trim();
  if (v === undefined) return undefined;
  if (v.toLowerCase() === 'never') return null;
  const ms = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(ms)) throw usageError(`--expires: expected an ISO date (2027-01-31 or 2027-01-31T12:00:00Z), epoch milliseconds or never; got "${v}".`);
  return ms;
}

/** Drops undefined entries, so validators see only the flags that were given. */
export function defined(body: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined));
}
