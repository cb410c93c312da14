import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { parseDuration } from '../config/parse.js';
import { SIGNAL_NAMES } from './signal-names.js';
import { SEVERITIES, SEVERITY_ALIASES, type RuleCategory, type Severity } from './types.js';

export const OPS = ['>', '>=', '<', '<=', '=='] as const;
export type Op = (typeof OPS)[number];
const CATEGORIES: readonly RuleCategory[] = ['performance', 'business', 'system', 'security'];

/** A rule as the engine uses it: durations in ms, severity canonical. */
export interface Rule {
  id: string;
  name: string;
  category: RuleCategory;
  description: string;
  signal: string;
  op: Op;
  threshold: number;
  windowMs: number;
  /** Fewest requests/events in the window before the signal counts (0 = any). */
  min: number;
  forMs: number;
  severity: Severity;
  cooldownMs: number;
  groupMs: number;
  /** Channel ids, or ['*'] for every channel. */
  channels: readonly string[];
  enabled: boolean;
}

/** What an admin may change on a rule (kept in Redis on top of the file). */
export const RULE_PATCH_FIELDS = [
  'enabled',
  'threshold',
  'window',
  'min',
  'for',
  'severity',
  'cooldown',
  'group',
  'channels',
] as const;
export type RulePatch = Partial<Record<(typeof RULE_PATCH_FIELDS)[number], unknown>>;

/** A rule file or patch that cannot work: names the rule and the field. */
export class RuleError extends Error {
  constructor(
    readonly ruleId: string,
    readonly field: string,
    message: string,
  ) {
    super(`rule ${ruleId}: ${field}: ${message}`);
    this.name = 'RuleError';
  }
}

const DEFAULT_WINDOW_MS = 5 * 60_000;

function duration(id: string, field: string, raw: unknown, fallback: number): number {
  if (raw === undefined || raw === null) return fallback;
  if (typeof raw === 'number' && raw === 0) return 0;
  if (typeof raw !== 'string') throw new RuleError(id, field, `expected a duration such as 30s or 10m`);
  try {
    return parseDuration(field, raw);
  } catch (err) {
    throw new RuleError(id, field, (err as Error).message.replace(/^[^:]*: /, ''));
  }
}

function severity(id: string, raw: unknown): Severity {
  const s = typeof raw === 'string' ? (SEVERITY_ALIASES[raw.toLowerCase()] ?? raw.toUpperCase()) : '';
  if (!(SEVERITIES as readonly string[]).includes(s)) {
    throw new RuleError(id, 'severity', `expected P0–P3 or critical/warning/info, got ${JSON.stringify(raw)}`);
  }
  return s as Severity;
}

function finite(id: string, field: string, raw: unknown, fallback?: number): number {
  if (raw === undefined && fallback !== undefined) return fallback;
  if (typeof raw !== 'number' || !Number.isFinite(raw)) throw new RuleError(id, field, 'expected a number');
  return raw;
}

function channels(id: string, raw: unknown): string[] {
  if (raw === undefined) return ['*'];
  if (!Array.isArray(raw) || raw.some((c) => typeof c !== 'string' || c.length === 0 || c.length > 64)) {
    throw new RuleError(id, 'channels', "expected a list of channel ids, or ['*']");
  }
  return raw as string[];
}

/** One rule from its file form; throws RuleError naming what is wrong. */
export function ruleFrom(raw: unknown): Rule {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new RuleError('?', 'rule', 'expected a mapping');
  const r = raw as Record<string, unknown>;
  const id = typeof r.id === 'string' && /^[a-z0-9][a-z0-9_.-]{0,63}$/.test(r.id) ? r.id : '';
  if (!id) throw new RuleError(String(r.id), 'id', 'expected lower-case letters, digits, _ . - (at most 64)');
  const text = (field: string, fallback?: string) => {
    const v = r[field] ?? fallback;
    if (typeof v !== 'string' || v.length === 0) throw new RuleError(id, field, 'expected text');
    return v;
  };
  const category = text('category') as RuleCategory;
  if (!CATEGORIES.includes(category)) throw new RuleError(id, 'category', `expected one of ${CATEGORIES.join(', ')}`);
  const signal = text('signal');
  if (!(SIGNAL_NAMES as readonly string[]).includes(signal))
    throw new RuleError(id, 'signal', `unknown signal "${signal}"`);
  const op = text('op') as Op;
  if (!OPS.includes(op)) throw new RuleError(id, 'op', `expected one of ${OPS.join(' ')}`);
  if (r.enabled !== undefined && typeof r.enabled !== 'boolean')
    throw new RuleError(id, 'enabled', 'expected true or false');
  const min = finite(id, 'min', r.min, 0);
  if (min < 0) throw new RuleError(id, 'min', 'must not be negative');
  return {
    id,
    name: text('name'),
    category,
    description: typeof r.description === 'string' ? r.description.trim() : '',
    signal,
    op,
    threshold: finite(id, 'threshold', r.threshold),
    windowMs: duration(id, 'window', r.window, DEFAULT_WINDOW_MS),
    min,
    forMs: duration(id, 'for', r.for, 0),
    severity: severity(id, r.severity),
    cooldownMs: duration(id, 'cooldown', r.cooldown, 0),
    groupMs: duration(id, 'group', r.group, 0),
    channels: channels(id, r.channels),
    enabled: r.enabled !== false,
  };
}

/** The rules of a YAML (or JSON) text: a list of rules, ids unique. */
export function parseRules(text: string): Rule[] {
  const doc: unknown = parseYaml(text);
  if (!Array.isArray(doc)) throw new RuleError('?', 'file', 'expected a list of rules');
  const rules = doc.map(ruleFrom);
  const seen = new Set<string>();
  for (const rule of rules) {
    if (seen.has(rule.id)) throw new RuleError(rule.id, 'id', 'appears twice');
    seen.add(rule.id);
  }
  return rules;
}

export function loadRulesFile(file: string): Rule[] {
  return parseRules(readFileSync(file, 'utf8'));
}

/** A rule as written in the file (durations as text). */
export interface RuleFile {
  id: string;
  name: string;
  category: RuleCategory;
  signal: string;
  op: Op;
  threshold: number;
  window: string;
  min: number;
  for: string;
  severity: Severity;
  cooldown: string;
  group: string;
  channels: string[];
  enabled: boolean;
  description: string;
}

/** The file form of a rule, for patches to merge into and for the API to show. */
export function ruleToFile(rule: Rule): RuleFile {
  const d = (ms: number) =>
    ms % 3_600_000 === 0 && ms > 0
      ? `${ms / 3_600_000}h`
      : ms % 60_000 === 0 && ms > 0
        ? `${ms / 60_000}m`
        : `${ms / 1000}s`;
  return {
    id: rule.id,
    name: rule.name,
    category: rule.category,
    signal: rule.signal,
    op: rule.op,
    threshold: rule.threshold,
    window: d(rule.windowMs),
    min: rule.min,
    for: d(rule.forMs),
    severity: rule.severity,
    cooldown: d(rule.cooldownMs),
    group: d(rule.groupMs),
    channels: [...rule.channels],
    enabled: rule.enabled,
    description: rule.description,
  };
}

/** A rule with an admin's patch on top; throws RuleError if the result cannot work. */
export function applyPatch(rule: Rule, patch: RulePatch): Rule {
  for (const field of Object.keys(patch)) {
    if (!(RULE_PATCH_FIELDS as readonly string[]).includes(field)) {
      throw new RuleError(rule.id, field, `cannot be changed (changeable: ${RULE_PATCH_FIELDS.join(', ')})`);
    }
  }
  return ruleFrom({ ...ruleToFile(rule), ...patch });
}
