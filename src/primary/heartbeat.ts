import { pingLatency, type Store } from '../store/index.js';
import type { Logger } from '../util/log.js';

/** How often a node's primary writes its heartbeat; a node silent for three of these is `down`. */
export const HEARTBEAT_EVERY_MS = 10_000;
/** A node that has not written for this long leaves the list. */
const FORGET_AFTER_MS = 24 * 3_600_000;

export interface NodeStatus {
  node: string;
  version: string;
  pid: number;
  startedAt: number;
  host: string;
  port: number;
  workersConfigured: number;
  workersAlive(): number;
  restarts(): number;
  lastError(): { message: string; at: number } | null;
  /** Host and worker vitals for the alert engine, written as `v:<name>` fields. */
  vitals?(): Promise<Readonly<Record<string, number | null>>>;
}

/**
 * The node's `health:status` record in Redis, rewritten every HEARTBEAT_EVERY_MS by its primary,
 * so any node (GET /admin/system/nodes) can list the deployment and spot a dead member.
 */
export function startHeartbeat(deps: {
  store: Store;
  log: Logger;
  status: NodeStatus;
  onBeat?: (atMs: number) => void;
}): { stop(): Promise<void> } {
  const { store, status } = deps;
  const k = store.keys;
  let failing = false;
  const beat = async () => {
    try {
      const latencyMs = await pingLatency(store.redis);
      const now = Date.now();
      const err = status.lastError();
      const record: Record<string, string> = {
        node: status.node,
        version: status.version,
        pid: String(status.pid),
        host: status.host,
        port: String(status.port),
        startedAt: String(status.startedAt),
        heartbeatAt: String(now),
        workersConfigured: String(status.workersConfigured),
        workersAlive: String(status.workersAlive()),
        restarts: String(status.restarts()),
        redisLatencyMs: latencyMs.toFixed(3),
        lastError: err?.message ?? '',
        lastErrorAt: err ? String(err.at) : '',
        stoppedAt: '',
      };
      const vitals = (await status.vitals?.().catch(() => undefined)) ?? {};
      for (const [name, value] of Object.entries(vitals)) if (value !== null) record[`v:${name}`] = String(value);
      await store.redis.hset(k.nodeStatus(status.node), record);
      await store.redis.pexpire(k.nodeStatus(status.node), FORGET_AFTER_MS);
      await store.redis.zadd(k.nodeIndex(), now, status.node);
      await store.redis.zremrangebyscore(k.nodeIndex(), 0, now - FORGET_AFTER_MS);
      deps.onBeat?.(now);
      if (failing) deps.log.info('heartbeat written again');
      failing = false;
    } catch (err) {
      if (!failing) deps.log.warn('heartbeat not written', { err });
      failing = true;
    }
  };
  void beat();
  const timer = setInterval(() => void beat(), HEARTBEAT_EVERY_MS);
  timer.unref();
  return {
    /** Stops beating and says so: a node that stopped cleanly is not "missing". */
    async stop() {
      clearInterval(timer);
      await store.redis.hset(k.nodeStatus(status.node), 'stoppedAt', String(Date.now())).catch(() => 0);
    },
  };
}
