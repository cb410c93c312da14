import { parseArgs } from 'node:util';
import { usageError } from './errors.js';
import type { FieldFlag } from './flags.js';

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
    const { values, positionals } = parseArgs({
      args,
      options: { ...COMMON_OPTIONS, ...options },
      allowPositionals: true,
      strict: true,
    });
    return { values: values as Values, positionals };
  } catch (err) {
    const message = (err as Error).message;
    // `--window-requests -1` reads as two flags; say how to pass a negative value instead.
    const dashed = /^Option '(--[\w-]+)' argument is ambiguous/.exec(message)?.[1];
    if (dashed) throw usageError(`${dashed}: a value starting with "-" must be written ${dashed}=VALUE.`);
    throw usageError(message.replace(/\. To specify a positional argument.*$/s, '.'));
  }
}

export function str(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

/** `true|false` as a boolean (the payload validators want JSON types). */
function toBool(name: string, v: string): boolean {
  const s = v.trim().toLowerCase();
  if (s === 'true') return true;
  if (s === 'false') return false;
  throw usageError(`--${name}: expected true or false, got "${v}".`);
}

/** `ISO|epoch-ms` → epoch ms. */
function toTime(name: string, v: string): number {
  const s = v.trim();
  const ms = /^\d+$/.test(s) ? Number(s) : Date.parse(s);
  if (!Number.isFinite(ms))
    throw usageError(
      `--${name}: expected an ISO date (2027-01-31 or 2027-01-31T12:00:00Z), epoch milliseconds or never; got "${v}".`,
    );
  return ms;
}

/** `a=b,c=d` → { a: 'b', c: 'd' }; empty clears. */
export function toMap(name: string, v: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of toList(v)) {
    const at = pair.indexOf('=');
    if (at <= 0 || at === pair.length - 1)
      throw usageError(`--${name}: expected requested=upstream pairs separated by commas; got "${pair}".`);
    out[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
  }
  return out;
}

const toList = (v: string): string[] =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** Numbers become numbers; anything else is passed on for the validator to refuse by name. */
const INTEGER = /^\s*-?\d+\s*$/;
const DECIMAL = /^\s*-?(\d+(\.\d*)?|\.\d+)\s*$/;

function convert(f: FieldFlag, v: string): unknown {
  switch (f.kind) {
    case 'text':
      return v;
    case 'bool':
      return toBool(f.flag, v);
    case 'int':
      return INTEGER.test(v) ? Number(v) : v;
    case 'number':
      return DECIMAL.test(v) ? Number(v) : v;
    case 'list':
      return toList(v);
    case 'map':
      return toMap(f.flag, v);
    case 'time':
      return toTime(f.flag, v);
  }
}

/** parseArgs options for a table of field flags (every value is a string, converted later). */
export function optionsOf(flags: readonly FieldFlag[]): OptionSpec {
  return Object.fromEntries(flags.map((f) => [f.flag, { type: 'string' as const }]));
}

/**
 * The given flags as an admin API payload (JSON types: numbers, booleans, lists, null), so the
 * API's own validators judge them. Flags not given are left out.
 */
export function bodyOf(values: Values, flags: readonly FieldFlag[]): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const f of flags) {
    const v = str(values, f.flag);
    if (v === undefined) continue;
    body[f.field] = f.nullWord !== undefined && v.trim().toLowerCase() === f.nullWord ? null : convert(f, v);
  }
  return body;
}
