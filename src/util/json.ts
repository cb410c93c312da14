/** A JSON object (not null, not an array): what a parsed body or one of its fields must be to be read as one. */
export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
