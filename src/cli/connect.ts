import { existsSync } from 'node:fs';
import net from 'node:net';
import type { Config, RedisTarget } from '../config/index.js';
import { encryptionKeyFile, readEncryptionKey } from '../primary/bootstrap.js';
import { embeddedSocketPath } from '../store/embedded.js';
import { CliError } from './errors.js';

type ConcreteTarget = Exclude<RedisTarget, { kind: 'embedded' }>;

/**
 * The Redis the relay uses: REDIS_URL or REDIS_CLUSTER_NODES when set, else the socket of the
 * embedded Redis a running relay keeps in DATA_DIR. The CLI never starts a Redis of its own:
 * writing to a private one would change nothing the relay sees.
 */
export function resolveRedisTarget(config: Config): ConcreteTarget {
  if (config.redis.kind !== 'embedded') return config.redis;
  const socket = embeddedSocketPath(config.dataDir);
  if (existsSync(socket)) return { kind: 'url', url: `unix://${encodeURI(socket)}` };
  throw new CliError(
    [
      `No Redis to talk to: REDIS_URL and REDIS_CLUSTER_NODES are unset, and the embedded Redis is not running (no ${socket}).`,
      'Start the relay first (npm start) with the same DATA_DIR, or set REDIS_URL (or REDIS_CLUSTER_NODES) to the Redis the relay uses.',
    ].join('\n'),
  );
}

/** Where a target points, without credentials, for messages. */
export function describeTarget(target: ConcreteTarget): string {
  if (target.kind === 'cluster') return `Redis Cluster ${target.nodes.map((n) => `${n.host}:${n.port}`).join(',')}`;
  if (target.url.startsWith('unix://')) return decodeURI(target.url);
  try {
    const url = new URL(target.url);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return 'REDIS_URL';
  }
}

function endpoints(target: ConcreteTarget): ({ path: string } | { host: string; port: number })[] {
  if (target.kind === 'cluster') return target.nodes.map((n) => ({ host: n.host, port: n.port }));
  if (target.url.startsWith('unix://')) return [{ path: decodeURIComponent(target.url.slice('unix://'.length)) }];
  const url = new URL(target.url);
  return [{ host: url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1', port: Number(url.port || 6379) }];
}

function reachable(
  endpoint: { path: string } | { host: string; port: number },
  timeoutMs: number,
): Promise<string | null> {
  return new Promise((resolve) => {
    const sock = 'path' in endpoint ? net.connect(endpoint.path) : net.connect(endpoint.port, endpoint.host);
    const done = (problem: string | null) => {
      sock.destroy();
      resolve(problem);
    };
    sock.setTimeout(timeoutMs, () => done(`no answer within ${timeoutMs}ms`));
    sock.once('error', (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
    sock.once('connect', () => done(null));
  });
}

/**
 * A quick connect check before the Redis client starts retrying: an unreachable Redis (or the
 * stale socket of a relay that was killed) fails in a second with a message, not after a long wait.
 */
export async function checkReachable(target: ConcreteTarget, timeoutMs = 2_000): Promise<void> {
  const problems: string[] = [];
  for (const endpoint of endpoints(target)) {
    const problem = await reachable(endpoint, timeoutMs);
    if (problem === null) return;
    problems.push(problem);
  }
  const hint =
    target.kind === 'url' && target.url.startsWith('unix://')
      ? ' Is the relay running? Start it first, or set REDIS_URL.'
      : '';
  throw new CliError(`Cannot reach ${describeTarget(target)} (${[...new Set(problems)].join(', ')}).${hint}`);
}

/**
 * The relay's encryption key: ENCRYPTION_KEY, else DATA_DIR/encryption.key. Unlike the relay,
 * the CLI never generates one: a key the relay does not share would make every relay key it
 * creates unusable and every credential it stores unreadable.
 */
export function cliEncryptionKey(config: Config): string {
  let key: string | undefined;
  try {
    key = readEncryptionKey(config);
  } catch (err) {
    throw new CliError((err as Error).message, 1, { cause: err });
  }
  if (key) return key;
  throw new CliError(
    `No encryption key: ENCRYPTION_KEY is unset and ${encryptionKeyFile(config)} does not exist. Run crs with the relay's ENCRYPTION_KEY (or its DATA_DIR), or start the relay first.`,
  );
}
