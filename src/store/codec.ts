/**
 * Records live in Redis hashes with every field JSON-encoded, so `true`, `42` and `null` come back as
 * what they were. One codec for every record type: no per-reader guessing about "true" vs "1".
 */
export function encodeFields(record: object): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(record)) {
    if (v !== undefined) out[k] = JSON.stringify(v);
  }
  return out;
}

export function decodeFields(raw: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    try {
      out[k] = JSON.parse(v);
    } catch {
      out[k] = v;
    }
  }
  return out;
}

/** Typed readers for decoded fields, with the default used when a field is absent or malformed. */
export const field = {
  str: (r: Record<string, unknown>, k: string, d = ''): string => (typeof r[k] === 'string' ? (r[k] as string) : d),
  num: (r: Record<string, unknown>, k: string, d = 0): number =>
    typeof r[k] === 'number' && Number.isFinite(r[k]) ? (r[k] as number) : d,
  numOrNull: (r: Record<string, unknown>, k: string): number | null =>
    typeof r[k] === 'number' && Number.isFinite(r[k]) ? (r[k] as number) : null,
  bool: (r: Record<string, unknown>, k: string, d: boolean): boolean =>
    typeof r[k] === 'boolean' ? (r[k] as boolean) : d,
  strList: (r: Record<string, unknown>, k: string): string[] =>
    Array.isArray(r[k]) ? (r[k] as unknown[]).filter((x): x is string => typeof x === 'string') : [],
  strMap: (r: Record<string, unknown>, k: string): Record<string, string> => {
    const v = r[k];
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return {};
    return Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === 'string'));
  },
};
