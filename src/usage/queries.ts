import type { AccountId, ApiKeyId } from '../ids.js';
import type { Store } from '../store/index.js';
import { lastDays, type Buckets } from './buckets.js';
import { picoToUsd } from './pricing.js';
import type { UsageEvent } from './recorder.js';

/** Usage figures as the admin API shows them: tokens by kind and cost in USD. */
export interface UsageFigures {
  requests: number;
  errors: number;
  inputTokens: number;
  outputTokens: number;
  cacheCreateTokens: number;
  cacheCreate5mTokens: number;
  cacheCreate1hTokens: number;
  cacheReadTokens: number;
  webSearchRequests: number;
  /** USD. */
  cost: number;
  /** Exact cost in picodollars (1e-12 USD), as a decimal string. */
  costPico: string;
  /** Requests priced by the unknown-model fallback rule. */
  fallbackPriced: number;
}

/**
 * A usage record as the admin API shows it: times in ISO 8601 (the epoch milliseconds beside
 * them), money in USD with the exact picodollars beside it as a decimal string, as everywhere else.
 */
export type UsageRecordView = Omit<UsageEvent, 'startedAt' | 'costPico'> & {
  startedAt: string;
  startedAtMs: number;
  finishedAt: string;
  cost: number;
  costPico: string;
};

export function recordView(e: UsageEvent): UsageRecordView {
  return {
    ...e,
    startedAt: new Date(e.startedAt).toISOString(),
    startedAtMs: e.startedAt,
    finishedAt: new Date(e.startedAt + e.durationMs).toISOString(),
    cost: picoToUsd(BigInt(e.costPico)),
    costPico: String(e.costPico),
  };
}

export interface UsageReport {
  total: UsageFigures;
  daily: (UsageFigures & { date: string })[];
  models: (UsageFigures & { model: string })[];
}

export function figures(raw: Record<string, string> | null | undefined): UsageFigures {
  const n = (f: string) => Number(raw?.[f] ?? 0);
  const costPico = BigInt(raw?.costPico ?? '0');
  return {
    requests: n('requests'),
    errors: n('errors'),
    inputTokens: n('inputTokens'),
    outputTokens: n('outputTokens'),
    cacheCreateTokens: n('cacheCreateTokens'),
    cacheCreate5mTokens: n('cacheCreate5mTokens'),
    cacheCreate1hTokens: n('cacheCreate1hTokens'),
    cacheReadTokens: n('cacheReadTokens'),
    webSearchRequests: n('webSearchRequests'),
    cost: picoToUsd(costPico),
    costPico: costPico.toString(),
    fallbackPriced: n('fallbackPriced'),
  };
}

interface Layout {
  total: string;
  daily(day: string): string;
  models: string;
  modelTotal(model: string): string;
}

async function report(store: Store, layout: Layout, days: string[]): Promise<UsageReport> {
  const { redis } = store;
  const [total, models, ...daily] = await Promise.all([
    redis.hgetall(layout.total),
    redis.smembers(layout.models),
    ...days.map((d) => redis.hgetall(layout.daily(d))),
  ]);
  const modelRows = await Promise.all((models as string[]).sort().map((m) => redis.hgetall(layout.modelTotal(m))));
  return {
    total: figures(total as Record<string, string>),
    daily: days.map((date, i) => ({ date, ...figures(daily[i] as Record<string, string>) })),
    models: (models as string[]).sort().map((model, i) => ({ model, ...figures(modelRows[i]) })),
  };
}

export interface UsageQueries {
  forKey(id: ApiKeyId, days: number): Promise<UsageReport>;
  forAccount(id: AccountId, days: number): Promise<UsageReport>;
  /** The key's most recent usage records, newest first. */
  records(id: ApiKeyId, limit: number): Promise<UsageRecordView[]>;
}

export function createUsageQueries(deps: {
  store: Store;
  bucketsOf: (ms: number) => Buckets;
  now: () => number;
}): UsageQueries {
  const k = deps.store.keys;
  return {
    forKey: (id, days) =>
      report(
        deps.store,
        {
          total: k.keyUsageTotal(id),
          daily: (d) => k.keyUsageDaily(id, d),
          models: k.keyUsageModels(id),
          modelTotal: (m) => k.keyUsageModelTotal(id, m),
        },
        lastDays(deps.bucketsOf, deps.now(), days),
      ),
    forAccount: (id, days) =>
      report(
        deps.store,
        {
          total: k.accountUsageTotal(id),
          daily: (d) => k.accountUsageDaily(id, d),
          models: k.accountUsageModels(id),
          modelTotal: (m) => k.accountUsageModelTotal(id, m),
        },
        lastDays(deps.bucketsOf, deps.now(), days),
      ),
    async records(id, limit) {
      const rows = await deps.store.redis.lrange(k.keyUsageRecords(id), 0, Math.max(0, limit - 1));
      return rows.map((r) => recordView(JSON.parse(r) as UsageEvent));
    },
  };
}
