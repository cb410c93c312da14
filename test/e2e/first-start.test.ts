import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.js';
import { AdminClient, embeddedEnv, testEnv, uniquePrefix } from '../support/relay.js';
import { freePort, freshRequest, health, isAlive, pollUntil, relayScope } from './process.js';

/**
 * What a first user meets when they run the relay as the README says: one relay per data
 * directory, a port picked for them, a banner that says where everything is, logs that say what
 * happened to each request and each account, and a primary that keeps its workers alive (or exits
 * non-zero when it cannot). The behaviour does not depend on the kind of Redis: standalone only.
 */

const MODEL = 'claude-sonnet-4-5';

/** The lines of a JSON log that carry `msg`. */
function logLines(output: string, msg: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.msg === msg);
}

describe.skipIf(inject('redisTarget').kind === 'cluster')('the first start', () => {
  const { start, tempDir, cleanup } = relayScope('crs-first-');
  let fake: FakeAnthropic;

  beforeAll(async () => {
    fake = await startFakeAnthropic();
  });
  afterAll(async () => {
    cleanup();
    await fake?.close();
  });

  it('a second start on the same DATA_DIR refuses, naming the running relay; the first keeps serving', async () => {
    const dataDir = tempDir();
    const embedded = (port: number) => embeddedEnv(dataDir, port, { WORKERS: '1' });
    const first = await start(embedded(await freePort()));
    const redisPid = Number(readFileSync(path.join(dataDir, 'redis', 'redis.pid'), 'utf8').trim());
    expect(readFileSync(path.join(dataDir, 'relay.lock'), 'utf8').trim()).toBe(String(first.pid));

    const second = await start(embedded(await freePort()), { waitHealthy: false });
    const exit = await second.waitExit();
    expect(exit.code).toBe(3);
    expect(second.stderr).toContain(`Another relay (PID ${first.pid}) is already running on DATA_DIR ${dataDir}`);
    expect(second.stdout).not.toContain('stopping the embedded Redis');

    // The first relay and its Redis are untouched.
    expect(isAlive(redisPid)).toBe(true);
    expect((await health(first.url)).status).toBe(200);
    expect(await first.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(existsSync(path.join(dataDir, 'relay.lock'))).toBe(false);
    expect(isAlive(redisPid)).toBe(false);
  });

  it('PORT=0: the primary picks one port for every worker and says which', async () => {
    const relay = await start(testEnv(uniquePrefix(), { PORT: '0', WORKERS: '2' }));
    expect(relay.port).toBeGreaterThan(0);
    expect(relay.stdout).toContain(`Relay ready on 127.0.0.1:${relay.port} (2 workers`);
    const pids = new Set<number>();
    await pollUntil('both workers to answer on the one port', async () => {
      pids.add((await health(relay.url)).body.workers.pid);
      return pids.size === 2 ? true : undefined;
    });
    // Bound to loopback: no warning about the admin API.
    expect(relay.stdout).not.toContain('over plain HTTP');
    expect(await relay.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });

  it('says where it listens and what to do next, warns once off loopback, and logs requests and accounts taken out', async () => {
    const port = await freePort();
    const relay = await start(testEnv(uniquePrefix(), { PORT: String(port), HOST: '0.0.0.0', LOG_LEVEL: 'info' }));
    expect(relay.stdout).toContain(`Relay ready on every address of this machine, port ${port} (1 worker`);
    expect(relay.stdout).toContain(`Admin API: http://127.0.0.1:${port}/admin`);
    expect(relay.stdout).toMatch(/Next: +log in, add an upstream account/);
    const warnings = logLines(relay.stdout, 'the admin API is reachable off this machine over plain HTTP');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 'warn', host: '0.0.0.0', port });

    const admin = new AdminClient(relay.url);
    await admin.login();
    const refusedKey = 'sk-ant-first-start-refused-0000000';
    const goodKey = 'sk-ant-first-start-good-000000000000';
    const refused = await admin.createAccount({ name: 'refused', apiKey: refusedKey, baseUrl: fake.url, priority: 1 });
    const good = await admin.createAccount({ name: 'good', apiKey: goodKey, baseUrl: fake.url, priority: 5 });
    fake.script(refusedKey, { kind: 'error', status: 401, message: 'invalid x-api-key sk-ant-first-start-refused' });
    const key = await admin.createKey({ name: 'first user' });
    const res = await freshRequest(`${relay.url}/api/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': key.key },
      body: JSON.stringify({ model: MODEL, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(200);

    const out = await pollUntil('the request to be logged', () => {
      const lines = logLines(relay.stdout, 'request');
      return lines.length > 0 ? relay.stdout : undefined;
    });
    const [line] = logLines(out, 'request');
    // One access line per request at info: the refused account was tried first, then the good one.
    expect(line).toMatchObject({
      level: 'info',
      requestId: expect.stringMatching(/^req_/),
      keyId: key.id,
      accountId: good.id,
      platform: 'claude',
      model: MODEL,
      status: 200,
      outcome: 'ok',
      attempts: 2,
      durationMs: expect.any(Number),
      overheadMs: expect.any(Number),
    });
    expect(logLines(out, 'account out of rotation')).toEqual([
      expect.objectContaining({
        level: 'warn',
        accountId: refused.id,
        accountName: 'refused',
        reason: 'unauthorized',
        status: 401,
      }),
    ]);
    // No secret in the logs: not the relay key, not the accounts' keys, not the upstream's words about them.
    for (const secret of [key.key, refusedKey, goodKey, 'sk-ant-first-start-refused'])
      expect(out).not.toContain(secret);
    expect(await relay.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });

  it('WORKERS=1: a crashed worker is replaced and the relay keeps serving', async () => {
    const relay = await start(testEnv(uniquePrefix(), { PORT: String(await freePort()), WORKERS: '1' }));
    const victim = (await health(relay.url)).body.workers.pid;
    process.kill(victim, 'SIGKILL');
    const replacement = await pollUntil(
      'a new worker',
      async () => {
        const h = await health(relay.url).catch(() => undefined);
        return h && h.body.workers.pid !== victim ? h.body.workers.pid : undefined;
      },
      15_000,
    );
    expect(replacement).not.toBe(victim);
    expect(relay.exitResult).toBeUndefined();
    expect(isAlive(relay.pid)).toBe(true);
    expect(await relay.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });

  it('gives up with exit 1 when workers keep crashing (here: the port is taken)', async () => {
    const squatter = net.createServer();
    await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', r));
    const port = (squatter.address() as net.AddressInfo).port;
    try {
      const relay = await start(
        testEnv(uniquePrefix(), { PORT: String(port), WORKERS: '1', WORKER_MAX_RESTARTS: '2' }),
        {
          waitHealthy: false,
        },
      );
      const exit = await relay.waitExit(30_000);
      expect(exit.code).toBe(1);
      expect(logLines(relay.stdout, 'worker exited; restarting')).toHaveLength(2);
      expect(logLines(relay.stdout, 'workers keep crashing; giving up')).toHaveLength(1);
    } finally {
      squatter.close();
    }
  });
});
