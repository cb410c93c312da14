/**
 * What a command prints: tables and key/value blocks for people, one JSON document with `--json`.
 * Everything goes to stdout; errors go to stderr from index.ts.
 */
export interface Output {
  readonly json: boolean;
  line(text?: string): void;
  /** Prints `value` as JSON (with `--json`, the command's whole output). */
  data(value: unknown): void;
  table(headers: readonly string[], rows: readonly (readonly string[])[]): void;
  /** Two columns: label, value. */
  fields(rows: readonly (readonly [string, string])[]): void;
}

export function createOutput(
  json: boolean,
  write: (text: string) => void = (t) => void process.stdout.write(t),
): Output {
  return {
    json,
    line: (text = '') => write(text + '\n'),
    data: (value) => write(JSON.stringify(value, null, 2) + '\n'),
    table: (headers, rows) => write(renderTable(headers, rows)),
    fields: (rows) => write(renderTable(null, rows)),
  };
}

/** Left-aligned columns separated by two spaces; numbers are not special-cased, callers format them. */
export function renderTable(headers: readonly string[] | null, rows: readonly (readonly string[])[]): string {
  const all = headers ? [headers, ...rows] : rows;
  if (all.length === 0) return '';
  const widths: number[] = [];
  for (const row of all) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, [...cell].length)));
  const fmt = (row: readonly string[]) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - [...cell].length)))
      .join('  ')
      .trimEnd();
  return all.map(fmt).join('\n') + '\n';
}

export const yesNo = (b: boolean): string => (b ? 'yes' : 'no');

/** An ISO timestamp shortened for a table (`2026-11-27 12:00:00Z`), or `-`. */
export function when(iso: string | null): string {
  return iso === null ? '-' : iso.replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');
}

export const count = (n: number): string => n.toLocaleString('en-US');

/** `1 model`, `18 models`. */
export const plural = (n: number, noun: string): string => `${count(n)} ${noun}${n === 1 ? '' : 's'}`;

/** USD with as many decimals as it has, up to six (`$0.000375`, `$12.5`). */
export function usd(value: number): string {
  const s = value.toFixed(6).replace(/0+$/, '').replace(/\.$/, '');
  return `$${s}`;
}

/** A per-million or per-token number without float noise (`3.75`, `0.3`). */
export function decimal(value: number): string {
  return String(Math.round(value * 1e6) / 1e6);
}
