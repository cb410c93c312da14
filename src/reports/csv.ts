/** Text formats of exports: CSV (RFC 4180, with a BOM, formula-safe), a JSON array, NDJSON. */
export const FORMATS = ['csv', 'json', 'ndjson'] as const;
export type Format = (typeof FORMATS)[number];

export const CONTENT_TYPES: Record<Format, string> = {
  csv: 'text/csv; charset=utf-8',
  json: 'application/json; charset=utf-8',
  ndjson: 'application/x-ndjson; charset=utf-8',
};

/** The byte order mark spreadsheet programs need to read UTF-8 CSV as UTF-8. */
export const BOM = '\ufeff';

export type Cell = string | number | boolean | null;

/**
 * One CSV cell. Text that a spreadsheet would run as a formula (starting with =, +, -, @, tab or
 * CR) gets a leading apostrophe (OWASP's CSV injection advice); then RFC 4180 quoting. Numbers
 * are written as they are (they are never negative here).
 */
export function csvCell(v: Cell): string {
  if (v === null) return '';
  if (typeof v !== 'string') return String(v);
  const safe = /^[=+\-@\t\r\0]/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export const csvLine = (cells: readonly Cell[]): string => `${cells.map(csvCell).join(',')}\r\n`;

/**
 * Rows as text of one format. JSON rows each start with `,\n`: the writer drops the comma before
 * the export's first row (chunks are made ahead of knowing which one that is).
 */
export function serialise(format: Format, columns: readonly string[], rows: readonly Cell[][]): string {
  if (format === 'csv') return rows.map(csvLine).join('');
  const objects = rows.map((r) => JSON.stringify(Object.fromEntries(columns.map((c, i) => [c, r[i] ?? null]))));
  if (format === 'ndjson') return objects.map((o) => `${o}\n`).join('');
  return objects.map((o) => `,\n${o}`).join('');
}

/** What an export starts with (the CSV header) and ends with. */
export function head(format: Format, columns: readonly string[]): string {
  return format === 'csv' ? BOM + csvLine(columns) : format === 'json' ? '[' : '';
}
export const tail = (format: Format): string => (format === 'json' ? '\n]\n' : '');

const PICO = 10n ** 12n;

/** Picodollars as an exact USD decimal string (`12.345678901234`, trailing zeros dropped, at least 2 decimals). */
export function usdDecimal(pico: bigint): string {
  const neg = pico < 0n;
  const a = neg ? -pico : pico;
  const frac = (a % PICO).toString().padStart(12, '0').replace(/0+$/, '').padEnd(2, '0');
  return `${neg ? '-' : ''}${a / PICO}.${frac}`;
}
