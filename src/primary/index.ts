import cluster, { type Worker } from 'node:cluster';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config/index.js';
import { startEmbeddedRedis, type EmbeddedRedis } from '../store/embedded.js';
import { openStore } from '../store/index.js';
import type { Logger } from '../util/log.js';
import { VERSION } from '../version.js';
import { ensureAdmin, resolveEncryptionKey } from './bootstrap.js';
import { lockDataDir, type DataDirLock } from './lock.js';
import { isLoopback, readyBanner } from './banner.js';
import { startHeartbeat } from './heartbeat.js';
import { serveMetrics } from './metrics-listener.js';
import { createNodeMetrics } from '../metrics/node.js';
import { probeJob, startJobs } from '../jobs/index.js';
import { hostVitals } from './vitals.js';

/** Restart delays for crashing workers: doubling from 500 ms up to 30 s, reset after a minute up. */
const RESTART_MIN_MS = 500;
const RESTART_MAX_MS = 30_000;
const STABLE_AFTER_MS = 60_000;

/** A port nobody listens on now, for PORT=0: picked once, so every worker shares it. */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * The primary process: takes DATA_DIR (one relay per data directory), resolves secrets, starts the
 * embedded Redis if none is configured, creates the first admin, forks the workers (which all
 * listen on the same port), restarts crashed ones with backoff for as long as it runs, gives up
 * with exit 1 after WORKER_MAX_RESTARTS quick crashes in a row, and on SIGTERM/SIGINT drains the
 * workers before stopping Redis.
 */
export async function runPrimary(config: Config, log: Logger): Promise<void> {
  // A stop asked for while starting is remembered and carried out once the workers are forked.
  let stopRequested: string | undefined;
  let requestStop = (signal: string): void => {
    stopRequested ??= signal;
  };
  process.on('SIGTERM', () => requestStop('SIGTERM'));
  process.on('SIGINT', () => requestStop('SIGINT'));
  let lock: DataDirLock | undefined;
  let embedded: EmbeddedRedis | undefined;
  if (config.redis.kind === 'embedded') {
    // Before anything touches DATA_DIR: a second start must not stop the first one's Redis.
    lock = lockDataDir(config.dataDir);
    process.once('exit', () => lock?.release());
    embedded = await startEmbeddedRedis({ dataDir: config.dataDir, bin: config.redisServerBin, log });
  }
  const encryptionKey = resolveEncryptionKey(config, log);
  const redis = embedded ? { kind: 'url' as const, url: embedded.url } : config.redis;

  const store = await openStore({ target: redis, keyPrefix: config.redisKeyPrefix, log, name: 'crs-primary' });
  await ensureAdmin(config, store, encryptionKey, (line) => process.stdout.write(line + '\n'));

  const port = config.port === 0 ? await freePort(config.host) : config.port;
  const workerEnv: Record<string, string> = { ENCRYPTION_KEY: encryptionKey, PORT: String(port) };
  if (embedded) workerEnv.REDIS_URL = embedded.url;
  if (!isLoopback(config.host) && !config.trustProxy) {
    log.warn('the admin API is reachable off this machine over plain HTTP', {
      host: config.host,
      port,
      advice: 'put Nginx or Caddy with TLS in front (and set TRUST_PROXY=true), or set HOST=127.0.0.1',
    });
  }

  let shuttingDown = false;
  let failures = 0;
  let restarts = 0;
  let lastError: { message: string; at: number } | null = null;
  const startedAt = new Map<number, number>();
  const clusterWorkers = () => Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w);

  const nodeMetrics = createNodeMetrics({
    node: config.nodeId,
    version: VERSION,
    dataDir: config.dataDir,
    configuredWorkers: config.workers,
    workers: clusterWorkers,
  });
  const metricsListener = config.metricsListen ? await serveMetrics(config.metricsListen, nodeMetrics, log) : undefined;
  const heartbeat = startHeartbeat({
    store,
    log,
    status: {
      node: config.nodeId,
      version: VERSION,
      pid: process.pid,
      startedAt: Date.now(),
      host: config.host,
      port,
      workersConfigured: config.workers,
      workersAlive: () => clusterWorkers().filter((w) => !w.isDead()).length,
      restarts: () => restarts,
      lastError: () => lastError,
      vitals: hostVitals(config.dataDir, () => nodeMetrics.vitals()),
    },
    onBeat: (at) => nodeMetrics.heartbeat(at),
  });
  const jobs = await startJobs({
    config,
    store,
    encryptionKey,
    log,
    jobs: config.probes.enabled ? [await probeJob({ ...config, encryptionKey }, store, log)] : [],
  });

  const fork = (): Worker => {
    const worker = cluster.fork(workerEnv);
    startedAt.set(worker.id, Date.now());
    return worker;
  };

  const stop = async (code: number) => {
    await jobs.stop();
    await heartbeat.stop();
    metricsListener?.close();
    await store.close();
    if (embedded) await embedded.stop();
    // The 'exit' hook releases the lock.
    process.exit(code);
  };

  cluster.on('exit', (worker, code, signal) => {
    const upFor = Date.now() - (startedAt.get(worker.id) ?? Date.now());
    startedAt.delete(worker.id);
    nodeMetrics.workerExited(worker.id);
    if (shuttingDown) return;
    restarts++;
    nodeMetrics.workerRestarted();
    lastError = { message: `worker ${worker.id} exited (${signal ?? `code ${code}`})`, at: Date.now() };
    failures = upFor > STABLE_AFTER_MS ? 1 : failures + 1;
    if (failures > config.workerMaxRestarts) {
      shuttingDown = true;
      log.error('workers keep crashing; giving up', { worker: worker.id, code, signal, crashesInARow: failures - 1 });
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL');
      void stop(1);
      return;
    }
    const delay = Math.min(RESTART_MIN_MS * 2 ** (failures - 1), RESTART_MAX_MS);
    log.error('worker exited; restarting', { worker: worker.id, code, signal, upForMs: upFor, restartInMs: delay });
    // Not unref'd: with every worker gone, this timer is what keeps the primary (and the service) alive.
    setTimeout(() => {
      if (!shuttingDown) fork();
    }, delay);
  });

  let ready = 0;
  cluster.on('message', (worker, msg: { type?: string; port?: number }) => {
    if (msg?.type !== 'ready') return;
    if (shuttingDown) {
      // Up after the shutdown began (the first message may have come before it listened): again.
      try {
        worker.send({ type: 'shutdown' });
      } catch {
        // already gone
      }
      return;
    }
    if (++ready !== config.workers) return;
    const mode = embedded ? 'embedded' : config.redis.kind === 'cluster' ? 'cluster' : 'standalone';
    log.info('relay ready', {
      version: VERSION,
      node: config.nodeId,
      host: config.host,
      port: msg.port,
      workers: config.workers,
      redis: mode,
      metrics: metricsListener ? `http://${config.metricsListen?.host}:${metricsListener.port}/metrics` : undefined,
    });
    process.stdout.write(
      readyBanner({
        host: config.host,
        port: msg.port ?? port,
        workers: config.workers,
        redis: mode,
        dataDir: config.dataDir,
      }),
    );
  });

  for (let i = 0; i < config.workers; i++) fork();

  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    log.info('shutting down: draining workers', { signal, drainTimeoutMs: config.drainTimeoutMs });
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w);
    const exits = workers.map(
      (w) => new Promise<void>((resolve) => (w.isDead() ? resolve() : w.once('exit', () => resolve()))),
    );
    for (const w of workers) {
      try {
        w.send({ type: 'shutdown' });
      } catch {
        // already gone
      }
    }
    const allExited = await Promise.race([
      Promise.all(exits).then(() => true),
      sleep(config.drainTimeoutMs + 15_000).then(() => false),
    ]);
    if (!allExited) {
      log.error('workers did not stop in time; killing them');
      for (const w of workers) if (!w.isDead()) w.process.kill('SIGKILL');
    }
    log.info('stopped');
    await stop(0);
  };
  requestStop = (signal) => void shutdown(signal);
  if (stopRequested) requestStop(stopRequested);
}
