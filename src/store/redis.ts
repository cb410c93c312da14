import { Cluster, Redis, ReplyError, type ClusterNode, type RedisOptions } from 'ioredis';
import type { RedisTarget } from '../config/index.js';

/** The one Redis client type the rest of the code sees: a standalone client or a Cluster. */
export type RedisClient = Redis | Cluster;

export interface RedisConnectOptions {
  /** Name shown in CLIENT LIST, helps when debugging a shared Redis. */
  connectionName?: string;
  /** Subscriber connections must not auto-pipeline. */
  autoPipelining?: boolean;
  /** Fail commands fast while disconnected instead of queueing them (health checks). */
  offlineQueue?: boolean;
}

type ResolvedTarget = Exclude<RedisTarget, { kind: 'embedded' }>;

/**
 * Scripts sent on their own, never in an automatic pipeline: those whose key count is their first
 * argument (a Cluster would group them by the slot of that number, mixing slots in one pipeline),
 * and the jobs lease's, whose first call in a pipeline beside other commands (NOSCRIPT, then
 * EVAL) breaks ioredis 5's auto-pipelined replies.
 */
const NOT_AUTO_PIPELINED = ['crsApplyBatch', 'crsJobsTake', 'crsJobsFenced', 'crsJobsMove', 'crsJobsRelease'];

function standaloneOptions(url: string, opts: RedisConnectOptions): RedisOptions & { path?: string } {
  const base: RedisOptions = {
    connectionName: opts.connectionName,
    enableAutoPipelining: opts.autoPipelining ?? true,
    autoPipeliningIgnoredCommands: NOT_AUTO_PIPELINED,
    enableOfflineQueue: opts.offlineQueue ?? true,
    maxRetriesPerRequest: 2,
    connectTimeout: 5_000,
    // Reconnect at least every second: a command waits for two attempts before it fails (about 2 s with Redis gone).
    retryStrategy: (times) => Math.min(50 * 2 ** times, 1_000),
  };
  if (url.startsWith('unix://')) {
    return { ...base, path: decodeURIComponent(url.slice('unix://'.length)) };
  }
  return base;
}

/** Connects to the configured Redis. `embedded` must have been resolved into a URL by the primary. */
export function createRedis(target: RedisTarget, opts: RedisConnectOptions = {}): RedisClient {
  if (target.kind === 'embedded') {
    throw new Error('embedded Redis must be started by the primary and passed on as REDIS_URL');
  }
  return connect(target, opts);
}

function connect(target: ResolvedTarget, opts: RedisConnectOptions): RedisClient {
  if (target.kind === 'cluster') {
    const nodes: ClusterNode[] = target.nodes.map((n) => ({ host: n.host, port: n.port }));
    return new Cluster(nodes, {
      enableAutoPipelining: opts.autoPipelining ?? true,
      autoPipeliningIgnoredCommands: NOT_AUTO_PIPELINED,
      enableOfflineQueue: opts.offlineQueue ?? true,
      slotsRefreshTimeout: 2_000,
      clusterRetryStrategy: (times) => Math.min(100 * 2 ** times, 2_000),
      redisOptions: {
        connectionName: opts.connectionName,
        password: target.password,
        maxRetriesPerRequest: 2,
        connectTimeout: 5_000,
      },
    });
  }
  const options = standaloneOptions(target.url, opts);
  return options.path ? new Redis(options) : new Redis(target.url, options);
}

/** Waits until the client is ready (or throws after `timeoutMs`). */
export async function waitReady(client: RedisClient, timeoutMs = 10_000): Promise<void> {
  if (client.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`Redis not ready after ${timeoutMs}ms (status ${client.status})`));
    }, timeoutMs);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const cleanup = () => {
      clearTimeout(timer);
      client.off('ready', onReady);
    };
    client.on('ready', onReady);
  });
}

/** Round-trip latency of a PING, in milliseconds. */
export async function pingLatency(client: RedisClient): Promise<number> {
  const start = process.hrtime.bigint();
  await client.ping();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** pingLatency, or a rejection after `timeoutMs` (a Redis that does not answer is down for a probe). */
export async function pingWithin(client: RedisClient, timeoutMs: number): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      pingLatency(client),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`ping timed out after ${timeoutMs}ms`)), timeoutMs);
        timer.unref();
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** QUIT politely, but never wait long: with Redis gone, QUIT would wait for a reconnect that never comes. */
export async function closeRedis(client: RedisClient, timeoutMs = 1_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.quit(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('quit timed out')), timeoutMs);
      }),
    ]);
  } catch {
    client.disconnect();
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Redis could not be reached (refused, reset, timed out, retries exhausted, no cluster node
 * answering), as opposed to Redis answering with an error (a ReplyError, a bug of ours).
 */
export function isConnectionFailure(err: unknown): boolean {
  if (!(err instanceof Error) || err instanceof ReplyError) return false;
  if (err.name === 'MaxRetriesPerRequestError' || err.name === 'ClusterAllFailedError') return true;
  const code = (err as NodeJS.ErrnoException).code;
  if (code && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTCONN', 'EPIPE', 'ENOENT', 'EHOSTUNREACH'].includes(code))
    return true;
  return /Connection is closed|Stream isn't writeable|None of startup nodes is available|Failed to refresh slots cache|CLUSTERDOWN|TRYAGAIN|LOADING/.test(
    err.message,
  );
}

/** Memory of one Redis server: used bytes, and its limit (maxmemory, else the host's memory). */
export interface MemoryInfo {
  server: string;
  used: number;
  limit: number;
}

/** INFO memory of the server, or of every master of a Cluster. */
export async function memoryInfo(client: RedisClient): Promise<MemoryInfo[]> {
  const servers: Redis[] = client instanceof Cluster ? client.nodes('master') : [client];
  return Promise.all(
    servers.map(async (server) => {
      const info = await server.info('memory');
      const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? 0);
      const max = field('maxmemory');
      return {
        server: `${server.options.host ?? 'localhost'}:${server.options.port ?? 6379}`,
        used: field('used_memory'),
        limit: max > 0 ? max : field('total_system_memory'),
      };
    }),
  );
}
