import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.js';
import { AdminClient, embeddedEnv } from '../support/relay.js';
import { freePort, freshRequest, isAlive, pollUntil, relayScope } from './process.js';

/**
 * One node on a laptop: no Redis configured, so the primary runs its own redis-server in
 * DATA_DIR, generates the encryption key and the admin password, and keeps everything across a
 * restart. Independent of the project's Redis, so it runs in the standalone project only.
 */

const UPSTREAM_KEY = 'sk-ant-e2e-embedded-0000000000000';
const MODEL = 'claude-sonnet-4-5';
const PASSWORD_LINE = /│ password: (\S+)/g;

function redisPid(dataDir: string): number {
  return Number(readFileSync(path.join(dataDir, 'redis', 'redis.pid'), 'utf8').trim());
}

async function ask(url: string, apiKey: string) {
  const res = await freshRequest(`${url}/api/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
    body: JSON.stringify({ model: MODEL, max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] }),
  });
  return { status: res.status, body: JSON.parse(res.body) as { content?: { text: string }[] } };
}

describe.skipIf(inject('redisTarget').kind === 'cluster')('relay process with its embedded Redis', () => {
  const { start, tempDir, cleanup } = relayScope('crs-e2e-');
  let fake: FakeAnthropic;

  beforeAll(async () => {
    fake = await startFakeAnthropic();
  });

  afterAll(async () => {
    cleanup();
    await fake?.close();
  });

  it('starts its own Redis, generates its secrets once, and keeps keys and usage across a restart', async () => {
    const dataDir = tempDir();
    const port = await freePort();
    const usage = { input_tokens: 40, output_tokens: 7, cache_read_input_tokens: 300, cache_creation_input_tokens: 60 };
    fake.script(
      UPSTREAM_KEY,
      { kind: 'message', text: 'first life', usage },
      { kind: 'message', text: 'second life', usage },
    );

    // First start: everything is created.
    const first = await start(embeddedEnv(dataDir, port));
    const printed = [...first.stdout.matchAll(PASSWORD_LINE)].map((m) => m[1]);
    expect(printed, first.stdout).toHaveLength(1);
    const password = printed[0] as string;
    expect(password.length).toBeGreaterThanOrEqual(16);

    const keyFile = path.join(dataDir, 'encryption.key');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const encryptionKey = readFileSync(keyFile, 'utf8').trim();
    expect(encryptionKey.length).toBeGreaterThanOrEqual(32);
    expect(statSync(path.join(dataDir, 'redis', 'redis.sock')).isSocket()).toBe(true);
    const redis1 = redisPid(dataDir);
    expect(isAlive(redis1)).toBe(true);
    // Secrets stay out of the logs.
    expect(first.stdout).not.toContain(encryptionKey);

    const admin = new AdminClient(first.url);
    await admin.login('admin', password);
    const account = await admin.createAccount({ apiKey: UPSTREAM_KEY, baseUrl: fake.url });
    const key = await admin.createKey({ name: 'embedded e2e' });
    const answer = await ask(first.url, key.key);
    expect(answer.status).toBe(200);
    expect(answer.body.content?.[0]?.text).toBe('first life');
    const bookedBefore = (await admin.keyUsage(key.id)).total;
    expect(bookedBefore).toMatchObject({
      requests: 1,
      inputTokens: 40,
      outputTokens: 7,
      cacheReadTokens: 300,
      cacheCreateTokens: 60,
    });

    // SIGTERM: a clean exit, and the redis-server goes with it.
    const exit = await first.stop('SIGTERM', 45_000);
    expect(exit, `${first.stdout}\n${first.stderr}`).toEqual({ code: 0, signal: null });
    expect(isAlive(redis1)).toBe(false);

    // Second start on the same DATA_DIR: nothing regenerated, everything still there.
    const second = await start(embeddedEnv(dataDir, port));
    expect(second.stdout).not.toMatch(PASSWORD_LINE);
    expect(second.stdout).not.toContain(password);
    expect(readFileSync(keyFile, 'utf8').trim()).toBe(encryptionKey);
    const redis2 = redisPid(dataDir);
    expect(redis2).not.toBe(redis1);

    const admin2 = new AdminClient(second.url);
    await admin2.login('admin', password);
    expect((await admin2.keyUsage(key.id)).total).toEqual(bookedBefore);
    expect((await admin2.accountUsage(account.id)).total).toMatchObject({ requests: 1, inputTokens: 40 });
    // The relay key and the encrypted upstream credential both survived.
    const again = await ask(second.url, key.key);
    expect(again.status).toBe(200);
    expect(again.body.content?.[0]?.text).toBe('second life');
    expect(fake.requests.filter((r) => r.apiKey === UPSTREAM_KEY)).toHaveLength(2);
    expect((await admin2.keyUsage(key.id)).total).toMatchObject({ requests: 2, inputTokens: 80, cacheReadTokens: 600 });

    // A clean exit may take up to DRAIN_TIMEOUT (30 s) when something is still in flight: wait past it.
    const exit2 = await second.stop('SIGTERM', 45_000);
    expect(exit2, `${second.stdout}\n${second.stderr}`).toEqual({ code: 0, signal: null });
    expect(isAlive(redis2)).toBe(false);
  }, 120_000);

  it('a SIGTERM while it is still starting: the workers come up, drain at once, and it exits cleanly', async () => {
    const dataDir = tempDir();
    const port = await freePort();
    const proc = await start(embeddedEnv(dataDir, port), { waitHealthy: false });
    // The embedded Redis is up, the workers are not forked yet.
    await pollUntil(
      'the embedded Redis to start',
      () => (proc.stdout.includes('embedded redis started') ? true : undefined),
      30_000,
      5,
    );
    const redis = redisPid(dataDir);
    const exit = await proc.stop('SIGTERM', 45_000);
    expect(exit, `${proc.stdout}\n${proc.stderr}`).toEqual({ code: 0, signal: null });
    expect(proc.stdout).not.toContain('Relay ready');
    expect(proc.stdout).toContain('worker stopped');
    expect(isAlive(redis)).toBe(false);
  }, 60_000);

  it('takes over the redis-server left running by a primary that was killed', async () => {
    const dataDir = tempDir();
    const port = await freePort();
    const first = await start(embeddedEnv(dataDir, port));
    const password = [...first.stdout.matchAll(PASSWORD_LINE)][0]?.[1] ?? '';
    const orphan = redisPid(dataDir);
    // kill -9 of the whole relay: Redis, in a process group of its own, survives.
    first.killGroup();
    expect(await first.waitExit()).toEqual({ code: null, signal: 'SIGKILL' });
    expect(isAlive(orphan)).toBe(true);

    const second = await start(embeddedEnv(dataDir, port));
    expect(isAlive(orphan)).toBe(false);
    expect(redisPid(dataDir)).not.toBe(orphan);
    expect(second.stdout).not.toMatch(PASSWORD_LINE);
    await new AdminClient(second.url).login('admin', password);
    // A clean exit may take up to DRAIN_TIMEOUT (30 s) when something is still in flight: wait past it.
    const exit2 = await second.stop('SIGTERM', 45_000);
    expect(exit2, `${second.stdout}\n${second.stderr}`).toEqual({ code: 0, signal: null });
  });

  it('exits non-zero and says how to install redis-server when it is missing', async () => {
    const dataDir = tempDir();
    const proc = await start(
      embeddedEnv(dataDir, await freePort(), { REDIS_SERVER_BIN: '/nonexistent/redis-server' }),
      { waitHealthy: false },
    );
    const exit = await proc.waitExit();
    expect(exit.code).not.toBe(0);
    expect(exit.code).not.toBeNull();
    expect(proc.stderr).toContain('/nonexistent/redis-server');
    expect(proc.stderr).toMatch(/apt-get install -y redis-server/);
    expect(proc.stderr).toMatch(/REDIS_URL/);
    expect(existsSync(path.join(dataDir, 'redis', 'redis.sock'))).toBe(false);
  });
});
