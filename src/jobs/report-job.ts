import { createGroupService } from '../accounts/groups.js';
import { createAccountService } from '../accounts/service.js';
import type { OutboxItem } from '../alerts/engine.js';
import { HISTORY_KEPT, INBOX_KEPT } from '../alerts/engine.js';
import type { Fenced, FencedOp } from '../alerts/fence.js';
import type { AlertService } from '../alerts/service.js';
import type { ChannelConfig } from '../alerts/types.js';
import type { Config } from '../config/index.js';
import { createApiKeyService } from '../keys/service.js';
import { createReports, type Period, type Reports } from '../reports/index.js';
import { createScheduleStore, scheduleDue, type ReportKind, type ScheduleStore } from '../reports/schedule/index.js';
import type { Store } from '../store/index.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import type { Secrets } from '../util/secrets.js';
import { createWorkPool } from '../work/pool.js';
import { reportMessage } from './report-message.js';
import { buildSummary } from './report-summary.js';

/** How often the lease holder looks for a report due or asked for. */
export const REPORT_CHECK_MS = 5_000;
/** Rows per top list (keys, accounts, models) in the CSV attachment. */
export const CSV_ROWS = 1_000;
/** A sent mark outlives the time its period can still be the one due (a month and its send day). */
const SENT_KEPT_S = 100 * 86_400;
/** Send requests taken per round. */
const REQUESTS_PER_ROUND = 10;

export interface ReportRun {
  queued: { kind: ReportKind; period: string; channels: string[]; request?: string }[];
}

export interface ReportJob {
  /** One round: every schedule's due report to the channels not yet marked for it, then the send requests. */
  run(): Promise<ReportRun>;
}

/**
 * Scheduled reports, on the node holding the jobs lease. A report due is summarised once and
 * written to the alert engine's outbox (one item per channel; email's with the CSV) in the same
 * fenced Lua call that marks each (kind, period, channel) sent: a node that lost the lease writes
 * neither, and the next holder finds the marks, so a handover or a restart neither skips a report
 * nor sends it twice. From the outbox on it is a notification like any other: rate limits,
 * retries, the delivery log.
 */
export function createReportJob(deps: {
  store: Store;
  schedules: ScheduleStore;
  reports: Reports;
  alerts: Pick<AlertService, 'channels' | 'history' | 'rules'>;
  fenced: Fenced;
  node: string;
  publicUrl: string | null;
  clock: Clock;
  log: Logger;
  rows?: number;
}): ReportJob {
  const { store, schedules, reports, alerts, clock, log } = deps;
  const k = store.keys;
  const rows = deps.rows ?? CSV_ROWS;
  const summaryDeps = {
    reports,
    history: (limit: number) => alerts.history(limit),
    historyKept: HISTORY_KEPT,
    ruleNames: async () => new Map((await alerts.rules()).map((r) => [r.id, r.name])),
  };

  /** The channels of `ids` that exist and are enabled (a disabled one gets the report once it is enabled again). */
  const live = async (ids: readonly string[]): Promise<ChannelConfig[]> =>
    (await Promise.all(ids.map((id) => alerts.channels.get(id)))).filter(
      (c): c is ChannelConfig => c !== null && c.enabled && c.type !== 'console',
    );

  /** Summarises `period` and queues it for `targets`, with `extra` writes in the same fenced call. */
  const queue = async (kind: ReportKind, period: Period, targets: ChannelConfig[], extra: FencedOp[]) => {
    const ops: FencedOp[] = [...extra];
    if (targets.length > 0) {
      const summary = await buildSummary(summaryDeps, kind, period, rows);
      const { message, withAttachment } = reportMessage(summary, {
        node: deps.node,
        at: clock.now(),
        publicUrl: deps.publicUrl,
      });
      ops.push(['LPUSH', k.alertInbox(), JSON.stringify(message)], ['LTRIM', k.alertInbox(), 0, INBOX_KEPT - 1]);
      for (const channel of targets) {
        const item: OutboxItem = {
          id: `${message.id}:${channel.id}`,
          channelId: channel.id,
          message: channel.type === 'email' ? withAttachment : message,
          attempt: 0,
          notBefore: 0,
        };
        ops.push(
          ['RPUSH', k.alertOutbox(), JSON.stringify(item)],
          ['SET', k.reportSent(kind, period.name, channel.id), message.id, 'EX', SENT_KEPT_S],
        );
      }
    }
    return ops.length === 0 || (await deps.fenced(ops));
  };

  return {
    async run() {
      const now = clock.now();
      const result: ReportRun = { queued: [] };
      for (const s of await schedules.list()) {
        if (!s.enabled || s.channels.length === 0) continue;
        const period = scheduleDue(reports.calendar, s, now);
        if (!period) continue;
        const marks = await store.redis.mget(...s.channels.map((c) => k.reportSent(s.kind, period.name, c)));
        const targets = await live(s.channels.filter((_, i) => marks[i] === null));
        if (targets.length === 0) continue;
        if (!(await queue(s.kind, period, targets, []))) return result;
        const channels = targets.map((c) => c.id);
        log.info('scheduled report queued', { kind: s.kind, period: period.name, channels });
        result.queued.push({ kind: s.kind, period: period.name, channels });
      }
      for (const { raw, request } of await schedules.requests(REQUESTS_PER_ROUND)) {
        const targets = await live(request.channels);
        // Taken off the list in the same write that queues it: asked once, sent once.
        if (!(await queue(request.kind, request.period, targets, [['LREM', k.reportRequests(), 1, raw]])))
          return result;
        const channels = targets.map((c) => c.id);
        const what = channels.length ? 'report sent on request' : 'report request dropped: none of its channels is on';
        log.info(what, {
          kind: request.kind,
          period: request.period.name,
          channels,
          by: request.by,
        });
        result.queued.push({ kind: request.kind, period: request.period.name, channels, request: request.id });
      }
      return result;
    },
  };
}

/** The scheduled reports as a periodic job of the deployment's jobs loop, with its own services and pool. */
export function reportJob(deps: {
  config: Config;
  store: Store;
  secrets: Secrets;
  alerts: AlertService;
  fenced: Fenced;
  clock: Clock;
  log: Logger;
}): { name: string; everyMs: number; run(): Promise<void>; close(): Promise<void> } {
  const { config, store, secrets, clock } = deps;
  const cacheTtlMs = config.cacheTtlMs;
  const log = deps.log.child({ component: 'reports' });
  const work = createWorkPool({ maxThreads: config.workThreads });
  const reports = createReports({
    store,
    keys: createApiKeyService({ store, secrets, clock, cacheTtlMs }),
    accounts: createAccountService({ store, secrets, clock, log, cacheTtlMs }),
    groups: createGroupService({ store, clock, cacheTtlMs }),
    work,
    redisTarget: config.redis,
    timeZone: config.statsTimezone,
    clock,
  });
  const job = createReportJob({
    store,
    schedules: createScheduleStore({ store, clock, timeZone: config.statsTimezone }),
    reports,
    alerts: deps.alerts,
    fenced: deps.fenced,
    node: config.nodeId,
    publicUrl: config.publicUrl,
    clock,
    log,
  });
  return {
    name: 'reports',
    everyMs: REPORT_CHECK_MS,
    run: async () => void (await job.run()),
    close: () => work.close(),
  };
}
