import cluster from 'node:cluster';
import { loadConfig } from '../config/index.js';
import { metricsFor } from '../metrics/index.js';
import { nodeScrapeFromPrimary, serveWorkerMetrics } from '../metrics/node.js';
import { createLogger } from '../util/log.js';
import { startInstance } from './instance.js';

/** A cluster worker: one relay instance on the shared port, drained on shutdown. */
export async function runWorker(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(
    config.logLevel,
    { pid: process.pid, worker: cluster.worker?.id, node: config.nodeId },
    undefined,
    config.logFormat,
  );
  // A shutdown can arrive while the instance is still starting (SIGTERM right after launch): it is
  // remembered here and carried out as soon as the instance is up, never dropped.
  let stopRequested: string | undefined;
  let stop = (why: string): void => {
    stopRequested ??= why;
  };
  process.on('message', (msg: { type?: string }) => {
    if (msg?.type === 'shutdown') stop('primary');
  });
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // The primary went away without telling us: finish what we have and leave.
  process.on('disconnect', () => stop('primary disconnected'));

  const metrics = metricsFor(config);
  const answering = serveWorkerMetrics(metrics.registry);
  const instance = await startInstance(config, {
    log,
    name: `crs-w${cluster.worker?.id ?? 0}`,
    metrics,
    nodeScrape: nodeScrapeFromPrimary(),
  });
  log.info('worker listening', { host: config.host, port: instance.port });
  process.send?.({ type: 'ready', port: instance.port });

  let stopping = false;
  const drainAndExit = async (why: string) => {
    if (stopping) return;
    stopping = true;
    log.info('worker draining', { why, inFlight: instance.app.inFlight });
    const clean = await instance.drain(config.drainTimeoutMs);
    // The last requests are counted too: the primary keeps these numbers after this worker is gone.
    await answering.sendFinal();
    log.info('worker stopped', { clean });
    process.exit(0);
  };
  stop = (why) => void drainAndExit(why);
  if (stopRequested) stop(stopRequested);
}
