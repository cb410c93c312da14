/**
 * Model names: families (for cooldown scopes and family budgets) and account allow lists with
 * simple globs (`claude-opus-*`).
 */

const FAMILIES = ['opus', 'sonnet', 'haiku', 'fable', 'mythos'] as const;

/**
 * The family a model's rate limits and weekly budgets are counted in: `opus`, `sonnet`, `haiku`…
 * for Claude; for other models the name without a date suffix.
 */
export function modelFamily(model: string): string {
  const m = model.toLowerCase();
  for (const f of FAMILIES) if (m.includes(f)) return f;
  return m.replace(/^models\//, '').replace(/-(?:\d{8}|\d{4}-\d{2}-\d{2})$/, '');
}

const globCache = new Map<string, RegExp>();

/** `*` matches any run of characters; everything else literally; case-insensitive. */
export function globMatch(pattern: string, value: string): boolean {
  if (!pattern.includes('*')) return pattern.toLowerCase() === value.toLowerCase();
  let re = globCache.get(pattern);
  if (!re) {
    re = new RegExp(
      `^${pattern
        .split('*')
        .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*')}$`,
      'i',
    );
    if (globCache.size > 1000) globCache.clear();
    globCache.set(pattern, re);
  }
  return re.test(value);
}

export const anyGlob = (patterns: readonly string[], value: string): boolean =>
  patterns.some((p) => globMatch(p, value));

/** What an account does with a requested model. */
export interface ModelPolicy {
  /** Allow list (globs); empty = every model of the platform. */
  models: readonly string[];
  /** Requested → upstream model names; a mapped model is supported even if not in `models`. */
  modelMapping: Readonly<Record<string, string>>;
}

/** The upstream model to use, or undefined when the account does not serve this model. */
export function upstreamModelFor(policy: ModelPolicy, requested: string): string | undefined {
  const mapped = lookupMapping(policy.modelMapping, requested);
  if (mapped !== undefined) return mapped;
  if (policy.models.length === 0 || anyGlob(policy.models, requested)) return requested;
  return undefined;
}

/** The account names this model explicitly (allow list or mapping), not merely "accepts all". */
export function explicitlySupports(policy: ModelPolicy, requested: string): boolean {
  return (
    lookupMapping(policy.modelMapping, requested) !== undefined ||
    (policy.models.length > 0 && anyGlob(policy.models, requested))
  );
}

function lookupMapping(mapping: Readonly<Record<string, string>>, requested: string): string | undefined {
  // Own keys only: a model named "constructor" must not find Object.prototype's.
  if (Object.hasOwn(mapping, requested)) return mapping[requested];
  const lower = requested.toLowerCase();
  let byGlob: string | undefined;
  for (const [from, to] of Object.entries(mapping)) {
    if (from.toLowerCase() === lower) return to;
    if (byGlob === undefined && from.includes('*') && globMatch(from, requested)) byGlob = to;
  }
  return byGlob;
}
