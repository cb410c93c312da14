import { invalid } from './context.js';
import type { Calendar, Step } from './periods.js';
import { STEPS } from './periods.js';
import { METRICS, RANK_BY, type RankQuery } from './rankings.js';
import type { TrendsQuery } from './trends.js';
import { FORMATS } from './csv.js';
import type { RecordExportQuery, UsageExportQuery } from './export.js';
import { isApiKeyId } from '../ids.js';
import { SCOPES, type UsageQuery } from './usage.js';

/**
 * Report queries from named text parameters: the admin API's query string and `crs reports`
 * flags go through the same checks, so both refuse the same input with the same words.
 */
export type Params = (name: string) => string | undefined;

/** Without `from`: this many days up to the end of today. */
export const DEFAULT_DAYS = 30;
const PARAMS = {
  usage: ['scope', 'id', 'from', 'to', 'step'],
  rankings: ['by', 'metric', 'from', 'to', 'limit'],
  trends: ['keys'],
  exportUsage: ['format', 'group', 'step', 'from', 'to', 'since'],
  exportRecords: ['format', 'from', 'to', 'since', 'keyId'],
} as const;

/** Refuses a parameter the report does not take (a typo would otherwise be ignored). */
export function checkNames(report: keyof typeof PARAMS, names: Iterable<string>): void {
  const known: readonly string[] = PARAMS[report];
  for (const n of names)
    if (!known.includes(n)) throw invalid(`${n.slice(0, 40)}: not a parameter of this report (${known.join(', ')})`);
}

function oneOf<T extends string>(get: Params, name: string, allowed: readonly T[], fallback: T): T {
  const raw = get(name) ?? fallback;
  if (!allowed.includes(raw as T))
    throw invalid(`${name}: expected one of ${allowed.join(', ')}, not "${raw.slice(0, 40)}"`);
  return raw as T;
}

function int(get: Params, name: string, min: number, max: number, fallback: number): number {
  const raw = get(name);
  const n = raw === undefined ? fallback : /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) throw invalid(`${name}: expected an integer from ${min} to ${max}`);
  return n;
}

/**
 * `from` and `to` (exclusive): a day (YYYY-MM-DD) or month (YYYY-MM) in the stats time zone, or
 * an ISO 8601 instant. Without `to`: the end of today; without `from`: DEFAULT_DAYS days before `to`.
 */
export function rangeOf(get: Params, cal: Calendar, now: number): { from: number; to: number } {
  const rawTo = get('to');
  const rawFrom = get('from');
  const to = rawTo !== undefined ? cal.parseTime('to', rawTo) : cal.nextStart(now, 'day');
  let from: number;
  if (rawFrom !== undefined) from = cal.parseTime('from', rawFrom);
  else {
    from = cal.startOf(to - 1, 'day');
    for (let i = 1; i < DEFAULT_DAYS; i++) from = cal.startOf(from - 1, 'day');
  }
  if (!(from < to)) throw invalid('from must be before to');
  return { from, to };
}

export function usageQueryOf(get: Params, cal: Calendar, now: number): UsageQuery {
  const scope = oneOf(get, 'scope', SCOPES, 'deployment');
  const step = oneOf<Step>(get, 'step', STEPS, 'day');
  const id = get('id');
  if (scope === 'deployment' && id !== undefined) throw invalid('id: not used with scope deployment');
  if (scope !== 'deployment' && !id) throw invalid(`id is required for scope ${scope}`);
  return { scope, step, ...(id ? { id } : {}), ...rangeOf(get, cal, now) };
}

export function rankQueryOf(get: Params, cal: Calendar, now: number): RankQuery {
  return {
    by: oneOf(get, 'by', RANK_BY, 'key'),
    metric: oneOf(get, 'metric', METRICS, 'cost'),
    limit: int(get, 'limit', 1, 1_000, 10),
    ...rangeOf(get, cal, now),
  };
}

export function trendsQueryOf(get: Params): TrendsQuery {
  return { keys: int(get, 'keys', 1, 10_000, 100) };
}

const EXPORT_GROUPS = ['key', 'account', 'model'] as const;

/** `since`: the `x-next-since` of the previous pull (an ISO instant), or a day or month. */
function sinceOf(get: Params, cal: Calendar): { since?: number } {
  const raw = get('since');
  return raw === undefined ? {} : { since: cal.parseTime('since', raw) };
}

export function usageExportOf(get: Params, cal: Calendar, now: number): UsageExportQuery {
  return {
    format: oneOf(get, 'format', FORMATS, 'csv'),
    group: oneOf(get, 'group', EXPORT_GROUPS, 'key'),
    step: oneOf<Step>(get, 'step', STEPS, 'day'),
    ...rangeOf(get, cal, now),
    ...sinceOf(get, cal),
  };
}

export function recordExportOf(get: Params, cal: Calendar, now: number): RecordExportQuery {
  const keyId = get('keyId');
  if (keyId !== undefined && !isApiKeyId(keyId)) throw invalid(`keyId: not an API key id: "${keyId.slice(0, 40)}"`);
  return {
    format: oneOf(get, 'format', FORMATS, 'csv'),
    ...rangeOf(get, cal, now),
    ...sinceOf(get, cal),
    ...(keyId !== undefined ? { keyId } : {}),
  };
}
