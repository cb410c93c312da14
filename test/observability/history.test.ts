import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.js';
import { addAccount, ask, until } from '../support/pool.js';
import { startTestRelay, uniquePrefix, type TestRelay } from '../support/relay.js';
import { startHeartbeat } from '../../src/primary/heartbeat.js';
import type { HistoryPoint } from '../../src/usage/history.js';
import { silentLogger } from '../../src/util/log.js';

/**
 * The minute history in Redis and the node list, read through the admin API: two relays of one
 * deployment (one key prefix) on two nodes, each folding its requests and writing them in the
 * background; the deployment's numbers are the sum of the nodes', and equal what was booked.
 */

const USAGE = {
  input_tokens: 11,
  output_tokens: 5,
  cache_read_input_tokens: 7,
  cache_creation_input_tokens: 3,
  cache_creation: { ephemeral_5m_input_tokens: 3, ephemeral_1h_input_tokens: 0 },
};

const sum = (points: HistoryPoint[], f: 'requests' | 'errors' | 'inputTokens' | 'outputTokens' | 'cacheReadTokens') =>
  points.reduce((s, p) => s + p[f], 0);
const sumCost = (points: HistoryPoint[]) => points.reduce((s, p) => s + BigInt(p.costPico), 0n);

describe('minute history and nodes', () => {
  let fake: FakeAnthropic;
  let one: TestRelay;
  let two: TestRelay;
  let key: string;
  let keyId: string;
  const prefix = uniquePrefix();
  const since = Date.now() - 60_000;

  const history = async (relay: TestRelay, query: string) => {
    const r = await relay.admin.request<{ points: HistoryPoint[] }>('GET', `/admin/system/metrics?${query}`);
    expect(r.status).toBe(200);
    return r.body.points;
  };

  beforeAll(async () => {
    fake = await startFakeAnthropic();
    fake.setDefault({ kind: 'message', usage: USAGE });
    one = await startTestRelay({ prefix, env: { NODE_ID: 'node-one' } });
    two = await startTestRelay({ prefix, env: { NODE_ID: 'node-two' } });
    await addAccount(one.admin, fake, 'h');
    ({ key, id: keyId } = await one.admin.createKey({ name: 'history' }));
  });
  afterAll(async () => {
    await one?.close();
    await two?.close();
    await fake?.close();
  });

  it("folds each node's requests into its minutes and the deployment's, equal to what was booked", async () => {
    for (let i = 0; i < 4; i++) expect((await ask(one.url, key, { stream: i % 2 === 0 })).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await ask(two.url, key)).status).toBe(200);
    expect((await ask(two.url, 'cr_' + '2'.repeat(64))).status).toBe(401);

    const q = `from=${since}&step=minute`;
    // Written in the background every few seconds: wait for all 8 to land.
    const all = await until(
      'the history to hold every request',
      async () => {
        const p = await history(one, q);
        return sum(p, 'requests') === 8 ? p : undefined;
      },
      15_000,
    );
    const nodeOne = await history(one, `${q}&node=node-one`);
    const nodeTwo = await history(two, `${q}&node=node-two`);
    expect([sum(nodeOne, 'requests'), sum(nodeTwo, 'requests')]).toEqual([4, 4]);
    expect([sum(all, 'errors'), sum(nodeOne, 'errors'), sum(nodeTwo, 'errors')]).toEqual([1, 0, 1]);
    expect(sum(all, 'inputTokens')).toBe(7 * USAGE.input_tokens);
    expect(sum(all, 'outputTokens')).toBe(7 * USAGE.output_tokens);
    expect(sum(all, 'cacheReadTokens')).toBe(7 * USAGE.cache_read_input_tokens);
    expect(all.reduce((s, p) => s + p.cacheCreateTokens, 0)).toBe(7 * 3);

    // The cost is the booked cost, to the picodollar.
    const usage = await one.admin.keyUsage(keyId);
    expect(sumCost(all)).toBe(BigInt(usage.total.costPico));
    expect(sumCost(nodeOne) + sumCost(nodeTwo)).toBe(sumCost(all));

    const busy = all.filter((p) => p.requests > 0);
    for (const p of busy) {
      expect(p.p50Ms).not.toBeNull();
      expect(p.p95Ms ?? 0).toBeGreaterThanOrEqual(p.p50Ms ?? 0);
    }
    // The hour rollup holds the same requests.
    const hours = await history(one, `from=${since}&step=hour`);
    expect(sum(hours, 'requests')).toBe(8);
  });

  it('refuses a bad step, range or node with a 400 in the admin shape', async () => {
    for (const q of [
      'step=second',
      'from=2026-01-02&to=2026-01-01',
      'from=yesterday',
      'step=minute&from=0',
      'node=a b',
    ]) {
      const r = await one.admin.request<{ error: { code: string } }>('GET', `/admin/system/metrics?${q}`);
      expect(r.status, q).toBe(400);
      expect(r.body.error.code).toBe('admin_invalid');
    }
  });

  it('lists the nodes by heartbeat, and one that went silent as down', async () => {
    const status = (node: string, startedAt: number) => ({
      node,
      version: '9.9.9',
      pid: 4242,
      startedAt,
      host: '127.0.0.1',
      port: 3000,
      workersConfigured: 2,
      workersAlive: () => 2,
      restarts: () => 1,
      lastError: () => ({ message: 'worker 1 exited (SIGKILL)', at: startedAt }),
    });
    const live = startHeartbeat({
      store: one.instance.store,
      log: silentLogger,
      status: status('beat-live', Date.now()),
    });
    let beat = 0;
    const stale = startHeartbeat({
      store: one.instance.store,
      log: silentLogger,
      status: status('beat-stale', Date.now()),
      onBeat: () => beat++,
    });
    await until('both heartbeats written', () => beat > 0);
    await stale.stop();
    // Age the silent node's heartbeat by a minute, as if its primary had died then.
    const k = one.instance.store.keys;
    await one.instance.store.redis.hset(k.nodeStatus('beat-stale'), 'heartbeatAt', String(Date.now() - 60_000));

    const r = await two.admin.request<{ items: { node: string; status: string; workers: unknown }[] }>(
      'GET',
      '/admin/system/nodes',
    );
    expect(r.status).toBe(200);
    const byNode = new Map(r.body.items.map((n) => [n.node, n]));
    expect(byNode.get('beat-live')).toMatchObject({
      status: 'up',
      version: '9.9.9',
      workers: { configured: 2, alive: 2, restarts: 1 },
      lastError: { message: 'worker 1 exited (SIGKILL)' },
    });
    expect(byNode.get('beat-stale')?.status).toBe('down');
    await live.stop();
  });
});
