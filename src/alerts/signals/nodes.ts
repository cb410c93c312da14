import type { Observation } from '../state.js';
import type { Signal, SignalContext } from './types.js';

/** Nodes that wrote a heartbeat in the last day, with their record (vitals are `v:` fields). */
const nodes = (ctx: SignalContext) =>
  ctx.memo('nodes', 0, async () => {
    const ids = await ctx.store.redis.zrange(ctx.store.keys.nodeIndex(), 0, -1);
    const records = await Promise.all(ids.map((id) => ctx.store.redis.hgetall(ctx.store.keys.nodeStatus(id))));
    return ids.map((node, i) => ({ node, r: records[i] ?? {} }));
  });

const STALE_MS = 60_000;

/** One vital of every node that is up (a silent node's last vitals say nothing of now). */
function vital(name: string, scale = 1): Signal {
  return async (ctx) => {
    const out: Observation[] = [];
    for (const { node, r } of await nodes(ctx)) {
      const raw = r[`v:${name}`];
      if (raw === undefined || ctx.now - Number(r.heartbeatAt ?? 0) > STALE_MS || r.stoppedAt) continue;
      out.push({ key: node, labels: { node }, subject: `node ${node}`, value: Number(raw) * scale });
    }
    return out;
  };
}

/** How much a node's counter grew inside the rule's window. */
function growing(field: string): Signal {
  return async (ctx, rule) => {
    const out: Observation[] = [];
    for (const { node, r } of await nodes(ctx)) {
      const raw = r[field];
      if (raw === undefined) continue;
      const grew = ctx.growth(field, `${node}|${r.startedAt ?? ''}`, Number(raw), rule.windowMs);
      out.push({ key: node, labels: { node }, subject: `node ${node}`, value: grew });
    }
    return out;
  };
}

export const requestsHanging = vital('hanging');
export const eventLoopLagP99 = vital('eventLoopLagP99Ms');
export const cpuRatio = vital('cpuRatio');
export const memoryUsedRatio = vital('memoryUsedRatio');
export const diskFreeRatio = vital('diskFreeRatio');
export const usageWriteFailures = growing('v:usageWriteFailures');
export const workerRestarts = growing('restarts');

/** Seconds since a node's last heartbeat; nodes that stopped cleanly are left out. */
export const nodeHeartbeatAge: Signal = async (ctx) =>
  (await nodes(ctx))
    .filter(({ r }) => !r.stoppedAt)
    .map(({ node, r }) => {
      const beat = Number(r.heartbeatAt ?? 0);
      return {
        key: node,
        labels: { node },
        subject: `node ${node}`,
        value: Math.round((ctx.now - beat) / 1000),
        detail: `last heartbeat ${new Date(beat).toISOString()}`,
      };
    });

/** 1 while the engine cannot reach Redis (the engine handles this one itself: see engine.ts). */
export const redisDown: Signal = async (ctx) => [
  { key: 'redis', labels: { component: 'redis' }, subject: 'Redis', value: ctx.redis.reachable ? 0 : 1 },
];

export const redisLatency: Signal = async (ctx) =>
  ctx.redis.latencyMs === null
    ? []
    : [{ key: 'redis', labels: { component: 'redis' }, subject: 'Redis', value: Math.round(ctx.redis.latencyMs) }];

/** used_memory over maxmemory (or the host's memory) of every Redis server (each master of a Cluster). */
export const redisMemoryRatio: Signal = async (ctx) => {
  const servers = await ctx.memo('redis-memory', 30_000, () => ctx.store.memoryInfo());
  return servers.map((s) => ({
    key: s.server,
    labels: { component: 'redis', server: s.server },
    subject: `Redis ${s.server}`,
    value: s.limit > 0 ? s.used / s.limit : 0,
    detail: `${Math.round(s.used / 1048576)} MB of ${Math.round(s.limit / 1048576)} MB`,
  }));
};
