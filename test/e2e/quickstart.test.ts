import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { freePort, freshRequest, isAlive, pollUntil, probeConnect, REPO_ROOT } from './process.js';

/**
 * The README's first Quick start line, as a new user runs it, on a copy of the repository without
 * node_modules: it installs only what the relay needs (no test tools, no client CLIs), builds, and
 * becomes the relay itself, so Ctrl-C and SIGTERM sent to its PID stop the relay cleanly. Slow (a
 * real npm install and a build), so once, in the standalone project.
 */

/** The repository's files as git knows them (the working tree's copies), into `dir`. */
function copyRepo(dir: string): void {
  const files = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  }).stdout.split('\0');
  for (const file of files.filter(Boolean)) {
    const from = path.join(REPO_ROOT, file);
    // Never a link (a node_modules linked in would be emptied by the script's npm ci through it).
    if (!existsSync(from) || lstatSync(from).isSymbolicLink() || file.split('/')[0] === 'node_modules') continue;
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    cpSync(from, path.join(dir, file));
  }
}

interface Run {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function quickstart(dir: string, env: Record<string, string>): Run {
  const child = spawn('sh', ['ops/quickstart.sh'], {
    cwd: dir,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? os.homedir(),
      npm_config_prefer_offline: 'true',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  return { child, output: () => out, exited };
}

describe.skipIf(inject('redisTarget').kind === 'cluster')('ops/quickstart.sh', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'crs-quickstart-'));
  const runs: Run[] = [];
  afterAll(() => {
    for (const r of runs) {
      try {
        process.kill(-(r.child.pid ?? 0), 'SIGKILL');
      } catch {
        // gone
      }
    }
    try {
      const pid = Number(readFileSync(path.join(dir, 'data', 'redis', 'redis.pid'), 'utf8').trim());
      if (pid > 0 && isAlive(pid)) process.kill(pid, 'SIGKILL');
    } catch {
      // no Redis was started
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    'installs only what the relay needs, runs it, and Ctrl-C or SIGTERM to its PID stop it cleanly',
    { timeout: 300_000 },
    async () => {
      copyRepo(dir);
      for (const signal of ['SIGINT', 'SIGTERM'] as const) {
        const port = await freePort();
        const run = quickstart(dir, { PORT: String(port), HOST: '127.0.0.1', WORKERS: '1' });
        runs.push(run);
        await pollUntil(
          `the relay on :${port}`,
          async () => {
            const r = await freshRequest(`http://127.0.0.1:${port}/health`, { timeoutMs: 1_000 }).catch(
              () => undefined,
            );
            return r?.status === 200 ? true : undefined;
          },
          240_000,
          250,
        ).catch((err: unknown) => {
          throw new Error(`${(err as Error).message}\n${run.output()}`);
        });
        // The script became the relay: its PID is the primary's.
        const cmdline = readFileSync(`/proc/${run.child.pid}/cmdline`, 'utf8');
        expect(cmdline).toContain('dist/main.js');
        expect(run.output()).toContain(`Relay ready on 127.0.0.1:${port}`);
        const redisPid = Number(readFileSync(path.join(dir, 'data', 'redis', 'redis.pid'), 'utf8').trim());

        process.kill(run.child.pid ?? 0, signal);
        expect(await run.exited).toEqual({ code: 0, signal: null });
        expect(await probeConnect(port)).toBe('refused');
        await pollUntil('the embedded Redis to stop', () => (isAlive(redisPid) ? undefined : true), 10_000);
      }
      // What was installed: the relay's dependencies, none of the test tools or client CLIs.
      const modules = path.join(dir, 'node_modules');
      for (const name of ['ioredis', 'uWebSockets.js', 'undici', 'typescript'])
        expect(existsSync(path.join(modules, name)), name).toBe(true);
      for (const name of [
        'vitest',
        '@anthropic-ai/claude-code',
        '@google/gemini-cli',
        '@openai/codex',
        'eslint',
        'openai',
      ])
        expect(existsSync(path.join(modules, name)), name).toBe(false);
    },
  );
});
