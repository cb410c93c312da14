import cluster, { type Worker } from 'node:cluster';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config/index.js';
import { startEmbeddedRedis, type EmbeddedRedis } from '../store/embedded.js';
import { openStore } from '../store/index.js';
import type { Logger } from '../util/log.js';
import { VERSION } from '../version.js';
import { ensureAdmin, resolveEncryptionKey } from './bootstrap.js';

/** Restart delays for crashing workers: doubling from 500 ms up to 30 s, reset after a minute up. */
const RESTART_MIN_MS = 500;
const RESTART_MAX_MS = 30_000;
const STABLE_AFTER_MS = 60_000;

/**
 * The primary process: resolves secrets, starts the embedded Redis if none is configured, creates
 * the first admin, forks the workers (which all listen on the same port), restarts crashed ones
 * with backoff, and on SIGTERM/SIGINT drains them before stopping Redis.
 */
export async function runPrimary(config: Config, log: Logger): Promise<void> {
  const encryptionKey = resolveEncryptionKey(config, log);
  let embedded: EmbeddedRedis | undefined;
  if (config.redis.kind === 'embedded')
    embedded = await startEmbeddedRedis({ dataDir: config.dataDir, bin: config.redisServerBin, log });
  const redis = embedded ? { kind: 'url' as const, url: embedded.url } : config.redis;

  const store = await openStore({ target: redis, keyPrefix: config.redisKeyPrefix, log, name: 'crs-primary' });
  await ensureAdmin(config, store, encryptionKey, (line) => process.stdout.write(line + '\n'));
  await store.close();

  const workerEnv: Record<string, string> = { ENCRYPTION_KEY: encryptionKey };
  if (embedded) workerEnv.REDIS_URL = embedded.url;

  let shuttingDown = false;
  let failures = 0;
  const startedAt = new Map<number, number>();

  const fork = (): Worker => {
    const worker = cluster.fork(workerEnv);
    startedAt.set(worker.id, Date.now());
    return worker;
  };

  cluster.on('exit', (worker, code, signal) => {
    const upFor = Date.now() - (startedAt.get(worker.id) ?? Date.now());
    startedAt.delete(worker.id);
    if (shuttingDown) return;
    failures = upFor > STABLE_AFTER_MS ? 1 : failures + 1;
    const delay = Math.min(RESTART_MIN_MS * 2 ** (failures - 1), RESTART_MAX_MS);
    log.error('worker exited; restarting', { worker: worker.id, code, signal, upForMs: upFor, restartInMs: delay });
    setTimeout(() => {
      if (!shuttingDown) fork();
    }, delay).unref();
  });

  let ready = 0;
  cluster.on('message', (_worker, msg: { type?: string; port?: number }) => {
    if (msg?.type === 'ready' && ++ready === config.workers) {
      log.info('relay ready', {
        version: VERSION,
        host: config.host,
        port: msg.port,
        workers: config.workers,
        redis: embedded ? 'embedded' : config.redis.kind,
      });
    }
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
    if (embedded) await embedded.stop();
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}
