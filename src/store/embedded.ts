import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../util/log.js';

/** A private redis-server the primary runs when no Redis is configured. */
export interface EmbeddedRedis {
  /** `unix:///…/redis.sock` or `redis://127.0.0.1:<port>` for the workers. */
  readonly url: string;
  /** Stops it gracefully (Redis flushes its AOF on SIGTERM). */
  stop(): Promise<void>;
}

export class RedisServerMissingError extends Error {
  constructor(bin: string) {
    super(
      [
        `The embedded Redis needs "${bin}", which was not found.`,
        'Install it, or point the relay at an existing Redis with REDIS_URL:',
        '  Debian/Ubuntu: sudo apt-get install -y redis-server',
        '  Fedora/RHEL:   sudo dnf install -y redis',
        '  macOS:         brew install redis',
      ].join('\n'),
    );
    this.name = 'RedisServerMissingError';
  }
}

/** Unix socket paths are limited to ~107 bytes; longer DATA_DIRs fall back to loopback TCP. */
const MAX_SOCKET_PATH = 100;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function ping(target: { path: string } | { port: number }, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = 'path' in target ? net.connect(target.path) : net.connect(target.port, '127.0.0.1');
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('error', () => done(false));
    sock.once('connect', () => sock.write('PING\r\n'));
    sock.once('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stops a redis-server left behind by a primary that was killed (its pidfile survives). */
async function stopLeftover(pidFile: string, log: Logger): Promise<void> {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return;
  log.warn('stopping the embedded Redis of a relay that is no longer running', { pid });
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 100 && alive(pid); i++) await sleep(100);
}

/** Where the embedded Redis listens, when DATA_DIR is short enough for a unix socket. */
export const embeddedSocketPath = (dataDir: string): string => path.join(dataDir, 'redis', 'redis.sock');

export async function startEmbeddedRedis(opts: { dataDir: string; bin: string; log: Logger }): Promise<EmbeddedRedis> {
  const dir = path.join(opts.dataDir, 'redis');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const pidFile = path.join(dir, 'redis.pid');
  await stopLeftover(pidFile, opts.log);

  const socketPath = embeddedSocketPath(opts.dataDir);
  const useSocket = socketPath.length <= MAX_SOCKET_PATH;
  const port = useSocket ? 0 : await freePort();
  if (useSocket) rmSync(socketPath, { force: true });

  // prettier-ignore
  const args = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--dir', dir,
    '--appendonly', 'yes',
    '--appendfsync', 'everysec',
    '--save', '',
    '--pidfile', pidFile,
    '--logfile', path.join(dir, 'redis.log'),
    '--daemonize', 'no',
    ...(useSocket ? ['--unixsocket', socketPath, '--unixsocketperm', '700'] : []),
  ];
  // Own process group: a Ctrl-C in the terminal must not stop Redis before the workers have
  // flushed their usage writes; the primary stops it last.
  const child: ChildProcess = spawn(opts.bin, args, { stdio: 'ignore', detached: true });
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });

  const target = useSocket ? { path: socketPath } : { port };
  const deadline = Date.now() + 15_000;
  for (;;) {
    const failed = await Promise.race([spawnError, sleep(50).then(() => undefined)]);
    if (failed) {
      if ((failed as NodeJS.ErrnoException).code === 'ENOENT') throw new RedisServerMissingError(opts.bin);
      throw failed;
    }
    if (exited) throw new Error(`embedded redis-server exited at start; see ${path.join(dir, 'redis.log')}`);
    if (await ping(target)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`embedded redis-server did not answer within 15s; see ${path.join(dir, 'redis.log')}`);
    }
  }
  opts.log.info('embedded redis started', {
    dir,
    socket: useSocket ? socketPath : undefined,
    port: useSocket ? undefined : port,
    pid: child.pid,
  });

  return {
    url: useSocket ? `unix://${socketPath}` : `redis://127.0.0.1:${port}`,
    async stop() {
      if (exited) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      await Promise.race([gone, sleep(10_000)]);
      if (!exited) child.kill('SIGKILL');
    },
  };
}
