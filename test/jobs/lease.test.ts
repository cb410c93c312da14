import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.js';
import { startTestRelay, TEST_ENCRYPTION_KEY, type TestRelay } from '../support/relay.js';
import { waitFor } from '../support/wait.js';
import { probeJob, startJobs } from '../../src/jobs/index.js';
import { createJobsLease } from '../../src/jobs/lease.js';
import { silentLogger } from '../../src/util/log.js';

/**
 * The jobs lease on real Redis: one holder at a time, handed over when it lapses, and fenced —
 * a holder that lost it (paused past its TTL while another took over) can write nothing, however
 * sure it is of itself.
 */
describe('jobs lease', () => {
  let relay: TestRelay;
  beforeAll(async () => {
    relay = await startTestRelay();
  });
  afterAll(async () => {
    await relay?.close();
  });

  it('one holder; a lapsed holder is fenced out; a release hands over at once', async () => {
    const store = relay.instance.store;
    const k = store.keys;
    const a = createJobsLease({ store, node: 'a', ttlMs: 5_000, log: silentLogger });
    const b = createJobsLease({ store, node: 'b', ttlMs: 5_000, log: silentLogger });
    expect(await a.tick()).toBe('held');
    expect(await b.tick()).toBe('taken');
    expect(await a.tick()).toBe('held');
    expect(a.holder()).toMatch(/^a\|\d+$/);
    expect(await a.fenced([['HSET', k.alertStates(), 'f1', 'by-a']])).toBe(true);
    expect(await store.redis.hget(k.alertStates(), 'f1')).toBe('by-a');

    // a stalls past its TTL (the key lapses) and b takes over with a higher token.
    await store.redis.del(k.jobsLease());
    expect(await b.tick()).toBe('held');
    const token = (h: string | null) => Number(h?.split('|')[1]);
    expect(token(b.holder())).toBeGreaterThan(token('a|1'));
    // a wakes up believing it holds the lease: its writes and moves are refused.
    expect(a.held()).toBe(true);
    expect(await a.fenced([['HSET', k.alertStates(), 'f1', 'stale-a']])).toBe(false);
    expect(await store.redis.hget(k.alertStates(), 'f1')).toBe('by-a');
    expect(a.held()).toBe(false);
    await store.redis.rpush(k.alertOutbox(), 'item');
    expect(await a.move(k.alertOutbox(), k.alertSending())).toBe(false);
    expect(await b.move(k.alertOutbox(), k.alertSending())).toBe('item');
    expect(await b.move(k.alertOutbox(), k.alertSending())).toBe(null);
    expect(await a.tick()).toBe('taken');

    await b.release();
    expect(await a.tick()).toBe('held');
    expect(await b.tick()).toBe('taken');
    await a.release();
  });

  it('the lease lapses after its TTL when its holder stops renewing', async () => {
    const store = relay.instance.store;
    const a = createJobsLease({ store, node: 'a', ttlMs: 300, log: silentLogger });
    const b = createJobsLease({ store, node: 'b', ttlMs: 300, log: silentLogger });
    expect(await a.tick()).toBe('held');
    expect(await b.tick()).toBe('taken');
    await new Promise((r) => setTimeout(r, 400));
    expect(a.held()).toBe(false);
    expect(await b.tick()).toBe('held');
    await b.release();
  });
});

describe('periodic jobs on two nodes', () => {
  let relay: TestRelay;
  let fake: FakeAnthropic;
  beforeAll(async () => {
    fake = await startFakeAnthropic();
    relay = await startTestRelay({ env: { PROBE_IDLE: '0s', PROBE_INTERVAL: '100ms', JOBS_LEASE_TTL: '1s' } });
  });
  afterAll(async () => {
    await relay?.close();
    await fake?.close();
  });

  it('probes run on the lease holder only, and move to the other node when it stops', async () => {
    const { id } = await relay.admin.createAccount({
      name: 'idle',
      apiKey: 'sk-ant-api03-idle-0123456789abcdef',
      baseUrl: fake.url,
    });
    const on = async (node: string) => {
      const config = { ...relay.config, nodeId: node };
      const store = relay.instance.store;
      const jobs = await startJobs({
        config,
        store,
        encryptionKey: TEST_ENCRYPTION_KEY,
        log: silentLogger,
        startLoop: false,
        jobs: [await probeJob(config, store, silentLogger)],
      });
      return jobs;
    };
    const [a, b] = [await on('node-a'), await on('node-b')];
    const nodesOfProbes = async () => {
      const r = await relay.admin.request<{ items: { node: string }[] }>('GET', `/admin/accounts/${id}/probes`);
      return r.body.items.map((p) => p.node);
    };
    for (let i = 0; i < 3; i++) {
      await a.tick();
      await b.tick();
      await waitFor(async () => (await nodesOfProbes()).length > i, { timeoutMs: 5_000, what: `probe ${i + 1}` });
      await new Promise((r) => setTimeout(r, 150));
    }
    const holder = a.lease.held() ? 'node-a' : 'node-b';
    expect(new Set(await nodesOfProbes())).toEqual(new Set([holder]));
    expect(fake.requests.length).toBe((await nodesOfProbes()).length);

    // The holder stops (its lease is released); the other node probes from then on.
    const [gone, left, next] = holder === 'node-a' ? [a, b, 'node-b'] : [b, a, 'node-a'];
    await gone.stop();
    await waitFor(
      async () => {
        await left.tick();
        return (await nodesOfProbes())[0] === next;
      },
      { timeoutMs: 5_000, what: 'a probe from the other node' },
    );
    await left.stop();
  });
});
