/**
 * What the benchmarks share: child processes that die with the bench, the fake upstream and the
 * built relay as their own processes, the ~2 KB Messages request, one autocannon run, and the CPU
 * time of a process tree read from /proc.
 */
import autocannon from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

const children: ChildProcess[] = [];
export const stopChildren = (): void => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
};
process.on('exit', stopChildren);

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve(buf.slice(0, nl));
    });
    child.once('exit', (code) => reject(new Error(`child exited early with ${code}`)));
  });
}

export async function waitHealthy(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`${url}/health`)).ok) return;
    } catch {
      // not up yet
    }
    await sleep(100);
  }
  throw new Error('relay did not become healthy');
}

/** The fake Anthropic upstream (uWS) in a process of its own. */
export async function startFakeUpstream(): Promise<{ url: string; stats: string }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'bench/fake-upstream.ts'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(proc);
  return JSON.parse(await firstLine(proc)) as { url: string; stats: string };
}

export const BENCH_ADMIN_PASSWORD = 'bench-admin-password';

/** The built relay (`dist/main.js`: its primary and workers) on a free port, healthy. */
export async function startRelay(
  env: Record<string, string>,
  stdout: 'ignore' | 'inherit' = 'ignore',
): Promise<{ url: string; proc: ChildProcess }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = spawn(process.execPath, ['dist/main.js'], {
    stdio: ['ignore', stdout, 'inherit'],
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      ENCRYPTION_KEY: 'bench-encryption-key-0123456789abcdef0123456789',
      ADMIN_PASSWORD: BENCH_ADMIN_PASSWORD,
      LOG_LEVEL: 'warn',
      ...env,
    },
  });
  children.push(proc);
  await waitHealthy(url);
  return { url, proc };
}

export async function api<T>(url: string, path: string, token: string, body: unknown): Promise<T> {
  const res = await fetch(url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

export const login = async (url: string): Promise<string> =>
  (await api<{ token: string }>(url, '/admin/login', '', { username: 'admin', password: BENCH_ADMIN_PASSWORD })).token;

/** A Messages request of about 2 KB, like a short Claude Code turn. */
export function requestBody(stream: boolean): string {
  const filler = 'The quick brown fox jumps over the lazy dog. '.repeat(42);
  return JSON.stringify({
    model: 'claude-sonnet-5-5',
    max_tokens: 256,
    stream,
    system: 'You are a helpful assistant.',
    messages: [{ role: 'user', content: filler }],
  });
}

export interface Measured {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  non2xx: number;
  errors: number;
}

export async function load(
  url: string,
  headers: Record<string, string>,
  stream: boolean,
  opts: { duration: number; connections: number; sessions?: number },
): Promise<Measured> {
  let n = 0;
  const sessions = opts.sessions ?? 0;
  const result = await autocannon({
    url,
    method: 'POST',
    connections: opts.connections,
    duration: opts.duration,
    headers: { 'content-type': 'application/json', ...headers },
    body: requestBody(stream),
    // Conversations: each request carries one of `sessions` session ids, like Claude Code does.
    ...(sessions > 0
      ? {
          requests: [
            {
              setupRequest: (req: autocannon.Request) => ({
                ...req,
                headers: { ...req.headers, 'x-claude-code-session-id': `bench-session-${n++ % sessions}` },
              }),
            },
          ],
        }
      : {}),
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) so far of `pid` and every descendant, and their summed RSS in bytes. */
export function treeUsage(pid: number): { cpuSeconds: number; rssBytes: number } {
  const stats = new Map<number, { ppid: number; ticks: number; rssPages: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const raw = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command name (which may hold spaces) start after the last ')'.
      const f = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
      stats.set(Number(entry), {
        ppid: Number(f[1]),
        ticks: Number(f[11]) + Number(f[12]),
        rssPages: Number(f[21]),
      });
    } catch {
      // exited meanwhile
    }
  }
  let ticks = 0;
  let pages = 0;
  const visit = (p: number) => {
    const s = stats.get(p);
    if (!s) return;
    ticks += s.ticks;
    pages += s.rssPages;
    for (const [child, c] of stats) if (c.ppid === p) visit(child);
  };
  visit(pid);
  return { cpuSeconds: ticks / TICKS_PER_SECOND, rssBytes: pages * 4096 };
}
