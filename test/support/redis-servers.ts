import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Real redis-server processes for tests: a standalone one and a small Cluster (3 masters), each on
 * free ports in a temporary directory, so tests are isolated from whatever Redis the machine runs.
 */
export interface RedisServers {
  /** What tests connect to: a `redis://` URL or the cluster's nodes. */
  target: { kind: 'url'; url: string } | { kind: 'cluster'; nodes: { host: string; port: number }[] };
  stop(): Promise<void>;
}

const REDIS_SERVER = process.env.REDIS_SERVER_BIN ?? 'redis-server';
const REDIS_CLI = process.env.REDIS_CLI_BIN ?? 'redis-cli';

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** A port that is free, and (for cluster nodes) whose bus port +10000 is free too. */
async function pickPort(withBus: boolean): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20000 + Math.floor(Math.random() * 20000);
    if ((await portFree(port)) && (!withBus || (await portFree(port + 10000)))) return port;
  }
  throw new Error('no free port found');
}

async function waitPing(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const r = spawnSync(REDIS_CLI, ['-p', String(port), 'ping'], { encoding: 'utf8' });
    if (r.stdout.trim() === 'PONG') return;
    await sleep(50);
  }
  throw new Error(`redis on port ${port} did not answer`);
}

function startServer(dir: string, port: number, extra: string[]): ChildProcess {
  const child = spawn(
    REDIS_SERVER,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'no',
      ...extra,
    ],
    { stdio: 'ignore' },
  );
  child.on('error', (err) => {
    throw new Error(`cannot start ${REDIS_SERVER}: ${err.message}`);
  });
  return child;
}

async function stopAll(children: ChildProcess[], dir: string): Promise<void> {
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          c.once('exit', () => resolve());
          c.kill('SIGKILL');
        }),
    ),
  );
  rmSync(dir, { recursive: true, force: true });
}

export async function startStandaloneRedis(): Promise<RedisServers> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'crs-redis-'));
  const port = await pickPort(false);
  const child = startServer(dir, port, []);
  await waitPing(port);
  return { target: { kind: 'url', url: `redis://127.0.0.1:${port}` }, stop: () => stopAll([child], dir) };
}

export async function startRedisCluster(masters = 3): Promise<RedisServers> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'crs-cluster-'));
  const ports: number[] = [];
  const children: ChildProcess[] = [];
  for (let i = 0; i < masters; i++) {
    const port = await pickPort(true);
    ports.push(port);
    children.push(
      startServer(dir, port, [
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        `nodes-${port}.conf`,
        '--cluster-node-timeout',
        '2000',
      ]),
    );
  }
  await Promise.all(ports.map((p) => waitPing(p)));
  const create = spawnSync(
    REDIS_CLI,
    ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'],
    {
      encoding: 'utf8',
    },
  );
  if (create.status !== 0) {
    await stopAll(children, dir);
    throw new Error(`redis-cli --cluster create failed: ${create.stdout}\n${create.stderr}`);
  }
  const deadline = Date.now() + 20_000;
  for (;;) {
    const states = ports.map(
      (p) => spawnSync(REDIS_CLI, ['-p', String(p), 'cluster', 'info'], { encoding: 'utf8' }).stdout,
    );
    if (states.every((s) => s.includes('cluster_state:ok'))) break;
    if (Date.now() > deadline) {
      await stopAll(children, dir);
      throw new Error('redis cluster did not reach cluster_state:ok');
    }
    await sleep(100);
  }
  return {
    target: { kind: 'cluster', nodes: ports.map((port) => ({ host: '127.0.0.1', port })) },
    stop: () => stopAll(children, dir),
  };
}
