import { PLATFORMS } from '../accounts/service.js';
import { RelayError } from '../errors/catalogue.js';
import type { AccountId, ApiKeyId } from '../ids.js';
import { safeModel } from '../usage/recorder.js';
import { invalid, iso, type ReportContext } from './context.js';
import { STEPS, type Period, type Step } from './periods.js';
import { addSums, emptySums, reportFigures, type ReportFigures } from './sums.js';

export const SCOPES = ['deployment', 'platform', 'key', 'account', 'group', 'model'] as const;
export type Scope = (typeof SCOPES)[number];

export interface UsageQuery {
  scope: Scope;
  /** Key id, account id, group id, platform name or model name; none for the deployment. */
  id?: string;
  /** Epoch ms; the report covers the whole periods of `step` that hold [from, to). */
  from: number;
  to: number;
  step: Step;
}

export interface UsageSeries {
  scope: Scope;
  id: string | null;
  /** The key's, account's or group's name. */
  name: string | null;
  step: Step;
  timeZone: string;
  /** The first period's start and the last one's end (ISO 8601). */
  from: string;
  to: string;
  /** Usage hashes read: subjects × buckets, whatever the number of requests. */
  hashes: number;
  total: ReportFigures;
  periods: (ReportFigures & { period: string; start: string; end: string })[];
}

const MAX_PERIODS = 5_000;
const notFound = (what: string) => new RelayError('admin_not_found', { message: `No ${what}.` });

/** The hashes of each period, for the query's scope, and the scope's name. */
async function bucketsOf(
  ctx: ReportContext,
  q: UsageQuery,
  periods: Period[],
): Promise<{ name: string | null; groups: string[][] }> {
  const { deps } = ctx;
  const per = (build: (p: Period) => string[]) => periods.map(build);
  const ofAccounts = (ids: readonly string[]) =>
    per((p) => ids.flatMap((a) => ctx.accountBuckets(a as AccountId, p, q.step)));
  switch (q.scope) {
    case 'deployment': {
      const keys = await ctx.subjects('key');
      return { name: null, groups: per((p) => keys.flatMap((x) => ctx.keyBuckets(x.id as ApiKeyId, p, q.step))) };
    }
    case 'key': {
      const key = await deps.keys.get((q.id ?? '') as ApiKeyId);
      const retired = key ? undefined : (await ctx.subjects('key')).find((s) => s.deleted && s.id === q.id);
      if (!key && !retired) throw notFound(`API key ${q.id}`);
      const id = (key?.id ?? retired?.id) as ApiKeyId;
      return { name: key?.name ?? retired?.name ?? null, groups: per((p) => ctx.keyBuckets(id, p, q.step)) };
    }
    case 'account': {
      const account = await deps.accounts.get((q.id ?? '') as AccountId);
      const retired = account ? undefined : (await ctx.subjects('account')).find((s) => s.deleted && s.id === q.id);
      if (!account && !retired) throw notFound(`account ${q.id}`);
      return { name: account?.name ?? retired?.name ?? null, groups: ofAccounts([account?.id ?? retired!.id]) };
    }
    case 'group': {
      const group = await deps.groups.get(q.id ?? '');
      if (!group) throw notFound(`account group ${q.id}`);
      return { name: group.name, groups: ofAccounts(group.accountIds) };
    }
    case 'platform': {
      if (!PLATFORMS.includes(q.id as never)) throw invalid(`id must be a platform: ${PLATFORMS.join(', ')}.`);
      const accounts = (await ctx.subjects('account')).filter((a) => a.platform === q.id);
      return { name: q.id ?? null, groups: ofAccounts(accounts.map((a) => a.id)) };
    }
    case 'model': {
      if (!q.id) throw invalid('id must name a model.');
      if (q.step === 'hour') throw invalid('Usage per model is kept per day: use step day, week or month.');
      const accounts = (await ctx.subjects('account')).map((a) => a.id);
      const model = safeModel(q.id);
      return { name: model, groups: per((p) => ctx.modelBuckets(accounts, model, p)) };
    }
    default:
      throw invalid(`scope must be one of ${SCOPES.join(', ')}.`);
  }
}

/** Usage over time of one scope, period by period, from the coarsest buckets that answer it exactly. */
export async function usageSeries(ctx: ReportContext, q: UsageQuery): Promise<UsageSeries> {
  if (!STEPS.includes(q.step)) throw invalid(`step must be one of ${STEPS.join(', ')}.`);
  if (!SCOPES.includes(q.scope)) throw invalid(`scope must be one of ${SCOPES.join(', ')}.`);
  ctx.validRange(q.from, q.to);
  const periods = ctx.cal.periods(q.from, q.to, q.step);
  if (periods.length > MAX_PERIODS)
    throw invalid(`${periods.length} periods of a ${q.step}: at most ${MAX_PERIODS}; use a coarser step.`);
  if (q.scope === 'model' && q.step === 'hour')
    throw invalid('Usage per model is kept per day: use step day, week or month.');
  ctx.check(periods, ctx.lifetimeOf(q.step));
  const { name, groups } = await bucketsOf(ctx, q, periods);
  const sums = await ctx.sum(groups);
  return {
    scope: q.scope,
    id: q.scope === 'deployment' ? null : (q.id ?? null),
    name,
    step: q.step,
    timeZone: ctx.cal.timeZone,
    from: iso(periods[0]?.start ?? q.from),
    to: iso(periods[periods.length - 1]?.end ?? q.to),
    hashes: groups.reduce((n, g) => n + g.length, 0),
    total: reportFigures(sums.reduce(addSums, emptySums())),
    periods: periods.map((p, i) => ({
      period: p.name,
      start: iso(p.start),
      end: iso(p.end),
      ...reportFigures(sums[i] ?? emptySums()),
    })),
  };
}
