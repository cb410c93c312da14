import { randomBytes } from 'node:crypto';
import type { Store } from '../../store/index.js';
import type { Clock } from '../../util/clock.js';
import { calendar } from '../periods.js';
import { lastComplete, nextSend, REPORT_KINDS, type ReportKind } from './due.js';

export { duePeriod, lastComplete, nextSend, periodAt, periodBefore, scheduleDue, sendTime, STEP_OF } from './due.js';
export { REPORT_KINDS, type ReportKind } from './due.js';

/** Where one kind of summary goes, and when. At most one schedule per kind; none by default. */
export interface Schedule {
  kind: ReportKind;
  /** Channel ids of the alert engine's channel store. */
  channels: string[];
  /** Hour of day (0-23, STATS_TIMEZONE) on the day after the period when the report goes out. */
  hour: number;
  enabled: boolean;
  createdAt: number;
  updatedAt: number;
}

export const DEFAULT_SEND_HOUR = 8;
/** At most this many channels per schedule (each is one outbox item per report). */
export const MAX_SCHEDULE_CHANNELS = 20;

/** A schedule as the API shows it: with the next send (period name and ISO instant). */
export type ScheduleView = Omit<Schedule, 'createdAt' | 'updatedAt'> & {
  createdAt: string;
  updatedAt: string;
  next: { period: string; at: string } | null;
};

/** An admin's "send the last complete period now", waiting for the jobs lease holder. */
export interface SendRequest {
  id: string;
  kind: ReportKind;
  /** The period, fixed when asked (a request taken after midnight still reports the day asked for). */
  period: { name: string; start: number; end: number };
  channels: string[];
  by: string;
  at: number;
}

export interface ScheduleStore {
  readonly timeZone: string;
  list(): Promise<Schedule[]>;
  get(kind: ReportKind): Promise<Schedule | null>;
  put(kind: ReportKind, input: { channels: string[]; hour?: number; enabled?: boolean }): Promise<Schedule>;
  remove(kind: ReportKind): Promise<boolean>;
  view(s: Schedule): ScheduleView;
  /** Queues a send of the last complete period to `channels` (a new message, whatever was sent before). */
  requestSend(kind: ReportKind, channels: string[], by: string): Promise<SendRequest>;
  /** Requests not yet taken by the lease holder, oldest first (at most `limit`). */
  requests(limit: number): Promise<{ raw: string; request: SendRequest }[]>;
}

/**
 * Report schedules in Redis under the alert engine's hash tag: the jobs lease holder reads them,
 * and marks each (kind, period, channel) sent in the same fenced write that puts the report in
 * the outbox. Workers (the admin API) only write schedules and send requests.
 */
export function createScheduleStore(deps: { store: Store; clock: Clock; timeZone: string }): ScheduleStore {
  const { store, clock } = deps;
  const k = store.keys;
  const cal = calendar(deps.timeZone);
  const iso = (ms: number) => new Date(ms).toISOString();

  const get = async (kind: ReportKind) => {
    const raw = await store.redis.hget(k.reportSchedules(), kind);
    return raw ? (JSON.parse(raw) as Schedule) : null;
  };

  return {
    timeZone: deps.timeZone,
    async list() {
      const all = await store.redis.hgetall(k.reportSchedules());
      return REPORT_KINDS.flatMap((kind) => (all[kind] ? [JSON.parse(all[kind]) as Schedule] : []));
    },
    get,
    async put(kind, input) {
      const prev = await get(kind);
      const now = clock.now();
      const s: Schedule = {
        kind,
        channels: [...new Set(input.channels)],
        hour: input.hour ?? prev?.hour ?? DEFAULT_SEND_HOUR,
        enabled: input.enabled ?? prev?.enabled ?? true,
        createdAt: prev?.createdAt ?? now,
        updatedAt: now,
      };
      await store.redis.hset(k.reportSchedules(), kind, JSON.stringify(s));
      return s;
    },
    async remove(kind) {
      return (await store.redis.hdel(k.reportSchedules(), kind)) > 0;
    },
    view(s) {
      const next = s.enabled ? nextSend(cal, s.kind, s.hour, clock.now()) : null;
      return {
        kind: s.kind,
        channels: s.channels,
        hour: s.hour,
        enabled: s.enabled,
        createdAt: iso(s.createdAt),
        updatedAt: iso(s.updatedAt),
        next: next && { period: next.period.name, at: iso(next.at) },
      };
    },
    async requestSend(kind, channels, by) {
      const at = clock.now();
      const p = lastComplete(cal, kind, at);
      const request: SendRequest = {
        id: `rrq_${randomBytes(8).toString('hex')}`,
        kind,
        period: { name: p.name, start: p.start, end: p.end },
        channels: [...new Set(channels)],
        by,
        at,
      };
      await store.redis.rpush(k.reportRequests(), JSON.stringify(request));
      return request;
    },
    async requests(limit) {
      const raws = await store.redis.lrange(k.reportRequests(), 0, limit - 1);
      return raws.map((raw) => ({ raw, request: JSON.parse(raw) as SendRequest }));
    },
  };
}
