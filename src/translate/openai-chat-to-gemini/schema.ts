/**
 * JSON Schema (as OpenAI tools and `response_format` carry it) → the OpenAPI subset Gemini's
 * `parameters` and `responseSchema` accept. Gemini rejects what it does not know
 * (`additionalProperties`, `$ref`, `$schema`, `const`, `default`, type arrays, most `format`s,
 * non-string enums, `required` naming an absent property, empty `properties`, `properties` on a
 * non-object), so:
 * references are inlined, `allOf` merged, `oneOf` read as `anyOf`, `["x", "null"]` becomes
 * `nullable`, and only the keywords below are kept.
 */
const KEEP = new Set([
  'type',
  'format',
  'description',
  'nullable',
  'enum',
  'items',
  'properties',
  'required',
  'minItems',
  'maxItems',
  'minProperties',
  'maxProperties',
  'minLength',
  'maxLength',
  'pattern',
  'minimum',
  'maximum',
  'anyOf',
]);

/** The `format`s Gemini accepts, per type. */
const FORMATS: Record<string, readonly string[]> = {
  string: ['enum', 'date-time'],
  number: ['float', 'double'],
  integer: ['int32', 'int64'],
};

/** Deeper than this a recursive `$ref` is cut off (Gemini has no recursion either). */
const MAX_DEPTH = 12;

type Schema = Record<string, unknown>;
const isObject = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Cleans a whole schema; `undefined` when nothing of it is left (an object without properties). */
export function geminiSchema(schema: Schema): Schema | undefined {
  const defs = {
    ...(isObject(schema.definitions) ? schema.definitions : {}),
    ...(isObject(schema.$defs) ? schema.$defs : {}),
  };
  const out = clean(schema, defs, 0);
  if (out.type === 'object' && !isObject(out.properties)) return undefined;
  return out;
}

function clean(input: Schema, defs: Schema, depth: number): Schema {
  if (depth > MAX_DEPTH) return { type: 'object' };
  let s = resolve(input, defs);
  s = mergeAllOf(s, defs);
  const out: Schema = {};
  const [type, nullable] = typeOf(s);
  if (type) out.type = type;
  if (nullable || s.nullable === true) out.nullable = true;

  for (const [k, v] of Object.entries(s)) {
    if (!KEEP.has(k) || k === 'type' || k === 'nullable') continue;
    switch (k) {
      case 'properties':
        if (isObject(v)) {
          const props: Schema = {};
          for (const [name, p] of Object.entries(v)) if (isObject(p)) props[name] = clean(p, defs, depth + 1);
          if (Object.keys(props).length > 0) out.properties = props;
        }
        break;
      case 'items': {
        const item = Array.isArray(v) ? v[0] : v;
        if (isObject(item)) out.items = clean(item, defs, depth + 1);
        break;
      }
      case 'anyOf':
        break; // below, with oneOf
      case 'enum':
        if (Array.isArray(v) && v.length > 0 && v.every((e) => typeof e === 'string')) out.enum = v;
        else if (Array.isArray(v) && v.length > 0)
          out.description = withNote(s.description, `One of: ${v.map((e) => JSON.stringify(e)).join(', ')}.`);
        break;
      case 'format':
        if (typeof v === 'string' && typeof out.type === 'string' && FORMATS[out.type]?.includes(v)) out.format = v;
        break;
      case 'description':
        if (typeof v === 'string' && out.description === undefined) out.description = v;
        break;
      default:
        out[k] = v;
    }
  }
  if (s.const !== undefined) {
    if (typeof s.const === 'string') {
      out.enum = [s.const];
      out.type ??= 'string';
    } else out.description = withNote(out.description, `Always ${JSON.stringify(s.const)}.`);
  }
  if (out.enum) out.type = 'string';
  if (typeof s.exclusiveMinimum === 'number' && out.minimum === undefined) out.minimum = s.exclusiveMinimum;
  if (typeof s.exclusiveMaximum === 'number' && out.maximum === undefined) out.maximum = s.exclusiveMaximum;

  const alternatives = [...(Array.isArray(s.anyOf) ? s.anyOf : []), ...(Array.isArray(s.oneOf) ? s.oneOf : [])].filter(
    isObject,
  );
  if (alternatives.length > 0) {
    const nonNull = alternatives.filter((a) => a.type !== 'null');
    if (nonNull.length < alternatives.length) out.nullable = true;
    if (nonNull.length === 1) Object.assign(out, { ...clean(nonNull[0] as Schema, defs, depth + 1), ...out });
    else if (nonNull.length > 1) out.anyOf = nonNull.map((a) => clean(a, defs, depth + 1));
  } else if (Array.isArray(s.type) && !out.type) {
    const types = s.type.filter((t): t is string => typeof t === 'string' && t !== 'null');
    if (types.length > 1) out.anyOf = types.map((t) => ({ type: t }));
  }

  // properties and required are for objects only.
  if (out.type !== undefined && out.type !== 'object') {
    delete out.properties;
    delete out.required;
  }
  if (Array.isArray(out.required) && isObject(out.properties)) {
    const props = out.properties;
    const required = out.required.filter((r): r is string => typeof r === 'string' && r in props);
    if (required.length > 0) out.required = required;
    else delete out.required;
  } else delete out.required;
  return out;
}

/** `{"$ref": "#/$defs/X"}` → X (with the referring schema's own keywords kept on top). */
function resolve(s: Schema, defs: Schema): Schema {
  if (typeof s.$ref !== 'string') return s;
  const m = /^#\/(?:\$defs|definitions)\/(.+)$/.exec(s.$ref);
  const target = m?.[1] ? defs[decodeURIComponent(m[1]).replace(/~1/g, '/').replace(/~0/g, '~')] : undefined;
  const { $ref: _ref, ...rest } = s;
  return isObject(target) ? { ...target, ...rest } : rest;
}

/** `allOf` → one schema: properties and required lists merged, other keywords first one wins. */
function mergeAllOf(s: Schema, defs: Schema): Schema {
  if (!Array.isArray(s.allOf)) return s;
  const { allOf, ...rest } = s;
  const merged: Schema = { ...rest };
  for (const part of allOf as unknown[]) {
    if (!isObject(part)) continue;
    const p = mergeAllOf(resolve(part, defs), defs);
    for (const [k, v] of Object.entries(p)) {
      if (k === 'properties' && isObject(v))
        merged.properties = { ...(isObject(merged.properties) ? merged.properties : {}), ...v };
      else if (k === 'required' && Array.isArray(v))
        merged.required = [...(Array.isArray(merged.required) ? merged.required : []), ...v];
      else if (merged[k] === undefined) merged[k] = v;
    }
  }
  return merged;
}

/** A schema's single type and whether it may be null (`["string", "null"]`, `"null"`). */
function typeOf(s: Schema): [string | undefined, boolean] {
  if (typeof s.type === 'string') return s.type === 'null' ? [undefined, true] : [s.type, false];
  if (Array.isArray(s.type)) {
    const types = s.type.filter((t): t is string => typeof t === 'string');
    const nonNull = types.filter((t) => t !== 'null');
    return [nonNull.length === 1 ? nonNull[0] : undefined, nonNull.length < types.length];
  }
  if (isObject(s.properties)) return ['object', false];
  return [undefined, false];
}

const withNote = (description: unknown, note: string): string =>
  typeof description === 'string' && description ? `${description} ${note}` : note;
