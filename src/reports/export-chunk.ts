import type { RedisTarget } from '../config/index.js';
import type { AccountId, ApiKeyId } from '../ids.js';
import { createKeySpace } from '../store/keys.js';
import { createRedis, type RedisClient } from '../store/redis.js';
import type { UsageEvent } from '../usage/recorder.js';
import { serialise, usdDecimal, type Cell, type Format } from './csv.js';
import { calendar } from './periods.js';
import { readSums } from './read.js';
import type { Step } from './periods.js';

export const USAGE_COLUMNS = [
  'period',
  'periodStart',
  'periodEnd',
  'complete',
  'group',
  'id',
  'name',
  'platform',
  'requests',
  'errors',
  'inputTokens',
  'outputTokens',
  'cacheCreateTokens',
  'cacheCreate5mTokens',
  'cacheCreate1hTokens',
  'cacheReadTokens',
  'webSearchRequests',
  'cost',
  'costPico',
] as const;

export const RECORD_COLUMNS = [
  'requestId',
  'keyId',
  'keyName',
  'accountId',
  'platform',
  'model',
  'endpoint',
  'stream',
  'status',
  'outcome',
  'startedAt',
  'finishedAt',
  'durationMs',
  'ttfbMs',
  'inputTokens',
  'outputTokens',
  'cacheCreate5mTokens',
  'cacheCreate1hTokens',
  'cacheReadTokens',
  'webSearchRequests',
  'cost',
  'costPico',
  'pricedAs',
  'priceSource',
] as const;

export interface ExportSubject {
  id: string;
  name: string;
  platform: string;
}

export type ExportGroup = 'key' | 'account' | 'model';

/** One chunk of an export: the subjects it covers and how to read them. Plain data (it crosses to a pool thread). */
export type ChunkInput = {
  target: Exclude<RedisTarget, { kind: 'embedded' }>;
  prefix: string;
  format: Format;
  subjects: ExportSubject[];
} & (
  | {
      kind: 'usage';
      group: ExportGroup;
      step: Step;
      timeZone: string;
      periods: { name: string; start: number; end: number }[];
      /** Rows of periods ending after this instant are not complete yet. */
      now: number;
      /** For group=model: every account whose per-model buckets are summed. */
      accountIds: string[];
    }
  | {
      kind: 'records';
      from: number;
      to: number;
      /** Only records that finished after this (exclusive) and not after `until`. */
      since: number;
      until: number;
    }
);

export interface ChunkOutput {
  text: string;
  rows: number;
}

type Reader = Pick<RedisClient, 'hgetall' | 'hmget' | 'lrange'>;

/** Reads and serialises one chunk (on a pool thread, or inline when there is none). */
export async function exportChunk(redis: Reader, input: ChunkInput): Promise<ChunkOutput> {
  const k = createKeySpace(input.prefix);
  const rows: Cell[][] = [];
  if (input.kind === 'usage') {
    const cal = calendar(input.timeZone);
    const hashes = (s: ExportSubject, p: { name: string; start: number; end: number }): string[] => {
      const days = () => cal.days(p.start, p.end);
      if (input.group === 'model')
        return days().flatMap((d) => input.accountIds.map((a) => k.accountUsageModelDaily(a as AccountId, s.id, d)));
      if (input.group === 'key') {
        const id = s.id as ApiKeyId;
        if (input.step === 'hour') return [k.keyUsageHourly(id, p.name)];
        if (input.step === 'month') return [k.keyUsageMonthly(id, p.name)];
        return days().map((d) => k.keyUsageDaily(id, d));
      }
      const id = s.id as AccountId;
      if (input.step === 'hour') return [k.accountUsageHourly(id, p.name)];
      if (input.step === 'month') return [k.accountUsageMonthly(id, p.name)];
      return days().map((d) => k.accountUsageDaily(id, d));
    };
    const groups = input.subjects.flatMap((s) => input.periods.map((p) => hashes(s, p)));
    const sums = await readSums(redis, groups);
    let i = 0;
    for (const s of input.subjects) {
      for (const p of input.periods) {
        const x = sums[i++];
        if (!x || x.requests === '0') continue;
        rows.push([
          p.name,
          new Date(p.start).toISOString(),
          new Date(p.end).toISOString(),
          p.end <= input.now,
          input.group,
          s.id,
          s.name,
          s.platform,
          Number(x.requests),
          Number(x.errors),
          Number(x.inputTokens),
          Number(x.outputTokens),
          Number(x.cacheCreateTokens),
          Number(x.cacheCreate5mTokens),
          Number(x.cacheCreate1hTokens),
          Number(x.cacheReadTokens),
          Number(x.webSearchRequests),
          usdDecimal(BigInt(x.costPico)),
          x.costPico,
        ]);
      }
    }
    return { text: serialise(input.format, USAGE_COLUMNS, rows), rows: rows.length };
  }
  const lists = await Promise.all(input.subjects.map((s) => redis.lrange(k.keyUsageRecords(s.id as ApiKeyId), 0, -1)));
  input.subjects.forEach((s, i) => {
    // Lists hold the newest first: write each key's records oldest first.
    const list = lists[i] ?? [];
    for (let j = list.length - 1; j >= 0; j--) {
      const e = JSON.parse(list[j] as string) as UsageEvent;
      const finished = e.startedAt + e.durationMs;
      if (e.startedAt < input.from || e.startedAt >= input.to) continue;
      if (finished <= input.since || finished > input.until) continue;
      const u = e.usage;
      rows.push([
        e.requestId,
        e.keyId,
        s.name,
        e.accountId,
        e.platform,
        e.model,
        e.endpoint,
        e.stream,
        e.status,
        e.outcome,
        new Date(e.startedAt).toISOString(),
        new Date(finished).toISOString(),
        e.durationMs,
        e.ttfbMs,
        u.inputTokens,
        u.outputTokens,
        u.cacheCreate5mTokens,
        u.cacheCreate1hTokens,
        u.cacheReadTokens,
        u.webSearchRequests,
        usdDecimal(BigInt(e.costPico)),
        String(e.costPico),
        e.pricedAs,
        e.priceSource,
      ]);
    }
  });
  return { text: serialise(input.format, RECORD_COLUMNS, rows), rows: rows.length };
}

/** The pool task: the same chunk over the thread's own connection (kept while the thread lives). */
const clients = new Map<string, RedisClient>();
export function exportChunkTask(input: ChunkInput): Promise<ChunkOutput> {
  const id = JSON.stringify(input.target);
  let redis = clients.get(id);
  if (!redis) {
    redis = createRedis(input.target, { connectionName: 'crs-export' });
    clients.set(id, redis);
  }
  return exportChunk(redis, input);
}
