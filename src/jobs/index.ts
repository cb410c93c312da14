import { createAccountService } from '../accounts/service.js';
import { createGroupService } from '../accounts/groups.js';
import { createHealthService } from '../accounts/health.js';
import { createAlertRunner } from '../alerts/runtime.js';
import { alertServiceFor } from '../alerts/service.js';
import type { Config } from '../config/index.js';
import { createApiKeyService } from '../keys/service.js';
import type { Store } from '../store/index.js';
import { bucketer } from '../usage/buckets.js';
import { systemClock, type Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { createSecrets } from '../util/secrets.js';
import { createProbeRuntime } from '../probes/runtime.js';
import { createJobsLease, type JobsLease } from './lease.js';
import { reportJob } from './report-job.js';

/** How often the primary looks at the lease, the outbox and the events stream. */
const TICK_MS = 1_000;

export interface Jobs {
  readonly lease: JobsLease;
  /** One round now (tests drive it by hand with `startLoop: false`). */
  tick(): Promise<void>;
  /** Resolves when the jobs running in the background now (probes, reports) have finished. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

/** Work a job does on the node holding the lease, at most every `everyMs`. */
export interface PeriodicJob {
  name: string;
  everyMs: number;
  run(): Promise<void>;
  close?(): Promise<void>;
}

/** How often the lease holder looks for accounts due a probe (a shorter PROBE_INTERVAL rounds faster). */
const PROBE_ROUND_MS = 15_000;

/** The probes as a periodic job: each round probes the accounts that are due. */
export async function probeJob(config: Config, store: Store, log: Logger): Promise<PeriodicJob> {
  const runtime = await createProbeRuntime({ config, store, log: log.child({ component: 'probes' }) });
  const everyMs = Math.min(PROBE_ROUND_MS, config.probes.intervalMs);
  return { name: 'probes', everyMs, run: () => runtime.prober.tick(), close: () => runtime.close() };
}

/**
 * The periodic jobs of the deployment, in a primary: every node's primary runs this loop, and only
 * the one holding the jobs lease does the work — alert evaluation (every ALERT_EVAL_INTERVAL, and
 * at once when an account event arrives), alert deliveries, scheduled reports (report-job.ts), and
 * the extra jobs passed in (probes).
 * When the holder dies its lease lapses and another primary takes over, resuming its deliveries.
 */
export async function startJobs(deps: {
  config: Config;
  store: Store;
  encryptionKey: string;
  log: Logger;
  clock?: Clock;
  jobs?: readonly PeriodicJob[];
  /** false: no timer; the caller calls tick(). */
  startLoop?: boolean;
}): Promise<Jobs> {
  const { config, store } = deps;
  const clock = deps.clock ?? systemClock;
  const log = deps.log.child({ component: 'jobs' });
  const secrets = createSecrets(deps.encryptionKey);
  const lease = createJobsLease({ store, node: config.nodeId, ttlMs: config.alerts.jobsLeaseMs, log });
  const service = alertServiceFor(config, { store, secrets, clock });
  const cacheTtlMs = config.cacheTtlMs;
  const alerts = config.alerts.enabled
    ? createAlertRunner({
        store,
        service,
        accounts: createAccountService({ store, secrets, clock, log, cacheTtlMs }),
        health: createHealthService({ store, clock, cacheTtlMs }),
        groups: createGroupService({ store, clock, cacheTtlMs }),
        keys: createApiKeyService({ store, secrets, clock, cacheTtlMs }),
        bucketsOf: bucketer(config.statsTimezone),
        fence: { write: (ops) => lease.fenced(ops), move: (from, to) => lease.move(from, to) },
        node: config.nodeId,
        publicUrl: config.publicUrl,
        timeZone: config.statsTimezone,
        clock,
        log,
      })
    : null;
  // Scheduled reports go out through the alert engine's outbox: with alerts off, there is none.
  const reports = alerts
    ? reportJob({ config, store, secrets, alerts: service, fenced: (ops) => lease.fenced(ops), clock, log })
    : null;
  const extra = [...(deps.jobs ?? []), ...(reports ? [reports] : [])];
  const due = new Map<string, number>();
  const busy = new Set<string>();
  const background = new Set<Promise<void>>();
  let held = false;
  let lastHeldAt = 0;
  let lastEvent = '';
  let nextEvaluation = 0;

  /** Whether an account event arrived since the last look (it wakes the evaluation). */
  const newEvent = async () => {
    const [latest] = await store.redis.xrevrange(store.keys.events(), '+', '-', 'COUNT', 1);
    const id = latest?.[0] ?? '';
    const changed = id !== lastEvent && lastEvent !== '';
    lastEvent = id;
    return changed;
  };

  const runJob = async (name: string, work: () => Promise<unknown>) => {
    try {
      await work();
    } catch (err) {
      log.warn('job failed; it runs again next time', { job: name, err });
    }
  };

  const tick = async () => {
    const now = clock.now();
    const state = await lease.tick();
    if (state !== 'held') {
      held = false;
      // Nobody can hold the lease while Redis is down: the last holder speaks for the deployment.
      if (state === 'unreachable' && alerts && now - lastHeldAt <= 2 * config.alerts.jobsLeaseMs) {
        lastHeldAt = Math.max(lastHeldAt, now - config.alerts.jobsLeaseMs);
        await runJob('alerts', () => alerts.redisUnreachable());
      }
      return;
    }
    if (!held && alerts) await runJob('alerts', () => alerts.takeOver());
    held = true;
    lastHeldAt = now;
    if (alerts) {
      await runJob('alerts', () => alerts.redisReachable());
      const woken = await newEvent().catch(() => false);
      if (woken || now >= nextEvaluation) {
        nextEvaluation = now + config.alerts.evalIntervalMs;
        await runJob('alerts', async () => {
          const { groupsDueAt } = await alerts.evaluate();
          // A group window ending before the next round: come back for it then.
          if (groupsDueAt !== null) nextEvaluation = Math.min(nextEvaluation, groupsDueAt);
        });
      }
      await runJob('alert-deliveries', () => alerts.deliver());
    }
    for (const job of extra) {
      if (now < (due.get(job.name) ?? 0) || !lease.held() || busy.has(job.name)) continue;
      due.set(job.name, now + job.everyMs);
      // In the background: a round of probes may take a probe's timeout, longer than the lease lasts.
      busy.add(job.name);
      const run = runJob(job.name, () => job.run()).finally(() => busy.delete(job.name));
      background.add(run);
      void run.finally(() => background.delete(run));
    }
  };

  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  if (deps.startLoop !== false) {
    const loop = () => {
      if (stopped) return;
      running = tick().finally(() => {
        if (!stopped) timer = setTimeout(loop, TICK_MS);
      });
    };
    loop();
  }

  return {
    lease,
    tick,
    async idle() {
      await Promise.all(background);
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running.catch(() => {});
      // A probe in flight may wait for its upstream up to PROBE_TIMEOUT: give it a moment, then close under it.
      await Promise.race([Promise.all(background), new Promise((r) => setTimeout(r, 2_000).unref())]);
      for (const job of extra) await job.close?.().catch(() => {});
      await lease.release();
    },
  };
}
