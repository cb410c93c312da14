import { afterAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic } from '../fakes/anthropic.js';
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

/**
 * With Redis out of reach a request cannot be authenticated, admitted or booked: the relay says so
 * with a 503 and retry-after, in the caller's shape, instead of an internal error, and soon.
 */
describe('Redis down', () => {
  it('answers 503 store_unavailable with retry-after in each caller shape, within seconds', async () => {
    const redis = await startStandaloneRedis();
    const fake = await startFakeAnthropic();
    if (redis.target.kind !== 'url') throw new Error('expected a standalone Redis');
    // A short cache TTL: after it, the key must be read from Redis again.
    const relay = await startTestRelay({
      env: { REDIS_URL: redis.target.url, REDIS_CLUSTER_NODES: '', CACHE_TTL: '1s' },
    });
    try {
      await relay.admin.createAccount({ apiKey: 'sk-ant-redis-down-000000000000', baseUrl: fake.url });
      const { key } = await relay.admin.createKey();
      const body = JSON.stringify({
        model: 'claude-sonnet-4-5',
        max_tokens: 5,
        messages: [{ role: 'user', content: 'hi' }],
      });
      const post = (path: string) =>
        fetch(`${relay.url}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-api-key': key, authorization: `Bearer ${key}` },
          body,
        });
      expect((await post('/api/v1/messages')).status).toBe(200);

      await redis.stop();
      await new Promise((r) => setTimeout(r, 1_100)); // past the cache TTL
      const started = Date.now();
      const anthropic = await post('/api/v1/messages');
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(anthropic.status).toBe(503);
      expect(Number(anthropic.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await anthropic.json()).toMatchObject({
        type: 'error',
        error: { type: 'api_error', message: expect.stringContaining('cannot reach its database') },
      });
      const openai = await post('/openai/v1/chat/completions');
      expect(openai.status).toBe(503);
      expect(await openai.json()).toMatchObject({ error: { type: 'server_error', code: 'store_unavailable' } });
      const admin = await relay.admin.request('GET', '/admin/api-keys');
      expect(admin.status).toBe(503);
      expect(admin.body).toMatchObject({ error: { code: 'store_unavailable' } });
      expect(fake.requests).toHaveLength(1);
    } finally {
      await relay.close().catch(() => {});
      await fake.close();
      await redis.stop();
    }
  });
});
