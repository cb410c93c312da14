import cluster from 'node:cluster';
import { ConfigError, loadConfig } from './config/index.js';
import { runPrimary } from './primary/index.js';
import { RelayAlreadyRunning } from './primary/lock.js';
import { runWorker } from './server/worker.js';
import { RedisServerMissingError } from './store/embedded.js';
import { createLogger } from './util/log.js';

/** Entry point: the primary forks workers; each worker serves the relay on the shared port. */
async function main(): Promise<void> {
  if (cluster.isPrimary) {
    let config;
    try {
      config = loadConfig();
    } catch (err) {
      if (err instanceof ConfigError) {
        process.stderr.write(`Configuration error: ${err.message}\n`);
        process.exit(2);
      }
      throw err;
    }
    const log = createLogger(
      config.logLevel,
      { pid: process.pid, role: 'primary', node: config.nodeId },
      undefined,
      config.logFormat,
    );
    try {
      await runPrimary(config, log);
    } catch (err) {
      if (err instanceof RedisServerMissingError || err instanceof RelayAlreadyRunning) {
        process.stderr.write(`${err.message}\n`);
        process.exit(3);
      }
      throw err;
    }
  } else {
    await runWorker();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`Fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
