import { afterAll, describe, expect, it } from 'vitest';
import { startStandaloneRedis, type RedisServers } from '../support/redis-servers.js';
import { startTestRelay, type TestRelay } from '../support/relay.js';
import { waitFor } from '../support/wait.js';

/**
 * /health reports Redis: 200 with its latency while it answers, 503 when it does not. This test
 * brings its own redis-server (it stops it on purpose), in both projects.
 */
describe('GET /health', () => {
  let redis: RedisServers | undefined;
  let relay: TestRelay | undefined;
  afterAll(async () => {
    await relay?.close().catch(() => {});
    await redis?.stop();
  });

  it('answers 200 with Redis up and its latency, then 503 once Redis is gone', async () => {
    redis = await startStandaloneRedis();
    if (redis.target.kind !== 'url') throw new Error('expected a standalone Redis');
    relay = await startTestRelay({ env: { REDIS_URL: redis.target.url, REDIS_CLUSTER_NODES: '' } });
    const up = await fetch(`${relay.url}/health`);
    expect(up.status).toBe(200);
    const body = (await up.json()) as { status: string; redis: { status: string; latencyMs: number }; version: string };
    expect(body.status).toBe('ok');
    expect(body.redis.status).toBe('up');
    expect(body.redis.latencyMs).toBeGreaterThan(0);
    expect(body.version).toMatch(/^\d+\.\d+\.\d+/);

    await redis.stop();
    const url = relay.url;
    const down = await waitFor(
      async () => {
        const res = await fetch(`${url}/health`);
        return res.status === 503 ? ((await res.json()) as { status: string; redis: { status: string } }) : undefined;
      },
      { what: 'health to report Redis down', intervalMs: 100 },
    );
    expect(down.status).toBe('unavailable');
    expect(down.redis.status).toBe('down');
  });
});
