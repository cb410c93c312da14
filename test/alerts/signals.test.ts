import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.js';
import { addAccount, ask } from '../support/pool.js';
import { startTestRelay, TEST_ENCRYPTION_KEY, type TestRelay } from '../support/relay.js';
import { waitFor } from '../support/wait.js';
import type { AlertState } from '../../src/alerts/state.js';
import { startJobs, type Jobs } from '../../src/jobs/index.js';
import { silentLogger } from '../../src/util/log.js';

/**
 * The shipped rules that read what the relay counts: each fed by real traffic (or by the records a
 * node writes) and evaluated by the engine, which must turn them into alerts with the right subject.
 */
describe('alert signals from real traffic', () => {
  let relay: TestRelay;
  let fake: FakeAnthropic;
  let jobs: Jobs;
  let key: string;
  let keyId: string;

  const api = <T = Record<string, unknown>>(method: string, path: string, body?: unknown) =>
    relay.admin.request<T>(method, path, body);
  /** The engine runs once (at once: no group window), and what is active for `rule`. */
  const activeFor = async (rule: string) => {
    // Past ALERT_EVAL_INTERVAL (100 ms): this round evaluates.
    await new Promise((r) => setTimeout(r, 120));
    await jobs.tick();
    const r = await api<{ active: AlertState[] }>('GET', '/admin/alerts');
    return r.body.active.filter((s) => s.rule === rule);
  };
  const store = () => relay.instance.store;

  beforeAll(async () => {
    fake = await startFakeAnthropic();
    fake.setDefault({ kind: 'message', usage: { input_tokens: 1_000_000, output_tokens: 10 } });
    relay = await startTestRelay({ env: { TRUST_PROXY: 'true', ALERT_EVAL_INTERVAL: '100ms' } });
    await addAccount(relay.admin, fake, 'solo');
    ({ key, id: keyId } = await relay.admin.createKey({ name: 'budgeted', dailyCostLimit: 4 }));
    jobs = await startJobs({
      config: relay.config,
      store: store(),
      encryptionKey: TEST_ENCRYPTION_KEY,
      log: silentLogger,
      startLoop: false,
    });
  });

  afterAll(async () => {
    await jobs?.stop();
    await relay?.close();
    await fake?.close();
  });

  it('a burst of invalid relay keys from one address', async () => {
    const from = '203.0.113.9';
    const answers = await Promise.all(
      Array.from({ length: 121 }, (_, i) =>
        ask(relay.url, `cr_${'0'.repeat(40)}${i}`, { headers: { 'x-forwarded-for': from } }),
      ),
    );
    // The first KEY_FAILURE_LIMIT (50) are refused as invalid, the rest as throttled; all are counted.
    expect(answers.filter((a) => a.status === 401)).toHaveLength(50);
    expect(answers.filter((a) => a.status === 429)).toHaveLength(71);
    // Counted in memory, written every few seconds.
    await waitFor(async () => (await activeFor('invalid_keys_burst')).length > 0, {
      timeoutMs: 10_000,
      what: 'the invalid-keys alert',
    });
    const active = await activeFor('invalid_keys_burst');
    expect(active.map((s) => [s.labels.address, s.value])).toEqual([[from, 121]]);
  });

  it('failed admin logins from one address', async () => {
    for (let i = 0; i < 5; i++) {
      const r = await relay.admin.request('POST', '/admin/login', { username: 'admin', password: `wrong-${i}` }, '');
      expect([401, 429]).toContain(r.status);
    }
    await waitFor(async () => (await activeFor('admin_login_failures')).length > 0, {
      timeoutMs: 10_000,
      what: 'the login failure alert',
    });
    const [alert] = await activeFor('admin_login_failures');
    expect(alert?.value).toBe(5);
  });

  it('one key from many addresses in an hour, and its budget at 80%', async () => {
    // 1M input tokens of Sonnet are $3: one request is 75% of the $4 daily limit, two are past it.
    for (const n of [1, 2, 3, 4, 5, 6]) {
      const a = await ask(relay.url, key, { headers: { 'x-forwarded-for': `198.51.100.${n}` } });
      if (n <= 2) expect(a.status).toBe(200);
    }
    await waitFor(async () => (await activeFor('key_many_addresses')).length > 0, {
      timeoutMs: 10_000,
      what: 'the many-addresses alert',
    });
    const [many] = await activeFor('key_many_addresses');
    expect(many?.labels.keyId).toBe(keyId);
    expect(many?.value).toBe(6);
    const budget = await activeFor('key_budget_80');
    expect(budget.map((s) => s.labels.limit)).toEqual(['daily']);
    expect((await activeFor('key_budget_100')).map((s) => s.labels.keyId)).toEqual([keyId]);
  });

  it('a node whose heartbeat stopped, unless it stopped cleanly', async () => {
    const k = store().keys;
    const silentSince = Date.now() - 120_000;
    for (const [node, stoppedAt] of [
      ['node-gone', ''],
      ['node-stopped', String(silentSince + 1)],
    ] as const) {
      await store().redis.hset(k.nodeStatus(node), { node, heartbeatAt: String(silentSince), stoppedAt });
      await store().redis.zadd(k.nodeIndex(), silentSince, node);
    }
    const missing = await activeFor('node_missing');
    expect(missing.map((s) => s.labels.node)).toEqual(['node-gone']);
    expect(missing[0]?.value).toBeGreaterThanOrEqual(120);
  });

  it("Redis's own memory use, against its limit", async () => {
    expect((await api('PATCH', '/admin/alerts/rules/redis_memory_high', { threshold: 0, for: '0s' })).status).toBe(200);
    const [alert] = await activeFor('redis_memory_high');
    expect(alert?.value).toBeGreaterThan(0);
    expect(alert?.value).toBeLessThan(1);
    expect((await api('POST', '/admin/alerts/rules/redis_memory_high/reset')).status).toBe(200);
  });
});
