import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.js';
import { parseExposition, total, type Sample } from '../support/prom.js';
import { AdminClient, testEnv, uniquePrefix } from '../support/relay.js';
import { freePort, freshRequest, health, isAlive, pollUntil, spawnRelay, type RelayProcess } from './process.js';

/**
 * The node's scrape, from the real process: two workers count, the primary sums them on its
 * loopback listener. After N requests the counters equal what the fake upstream reported, summed
 * over both workers; a worker killed with SIGKILL is replaced and the node's counters do not go
 * back (what it had counted stays in the sum).
 */

const UPSTREAM_KEY = 'sk-ant-e2e-metrics-0000000000000000';
const MODEL = 'claude-sonnet-4-5';
const USAGE = { input_tokens: 13, output_tokens: 8, cache_read_input_tokens: 21 };

describe.skipIf(inject('redisTarget').kind === 'cluster')('the node scrape of a relay with two workers', () => {
  let fake: FakeAnthropic;
  let relay: RelayProcess | undefined;
  let metricsPort: number;
  let key: string;
  const token = 'node-metrics-token-0123456789';

  const scrape = async (): Promise<Sample[]> => {
    const res = await freshRequest(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(res.status).toBe(200);
    return parseExposition(res.body);
  };
  const ask = (stream: boolean) =>
    freshRequest(`${relay!.url}/api/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': key },
      body: JSON.stringify({ model: MODEL, max_tokens: 10, stream, messages: [{ role: 'user', content: 'hi' }] }),
    });

  beforeAll(async () => {
    fake = await startFakeAnthropic();
    fake.setDefault({ kind: 'message', usage: USAGE });
    metricsPort = await freePort();
    relay = await spawnRelay(
      testEnv(uniquePrefix(), {
        PORT: String(await freePort()),
        WORKERS: '2',
        METRICS_PORT: String(metricsPort),
        METRICS_TOKEN: token,
      }),
    );
    const admin = new AdminClient(relay.url);
    await admin.login();
    await admin.createAccount({ apiKey: UPSTREAM_KEY, baseUrl: fake.url });
    ({ key } = await admin.createKey({ name: 'node metrics' }));
  });

  afterAll(async () => {
    relay?.killGroup();
    await fake?.close();
  });

  it('sums both workers: requests and tokens equal what the upstream reported', async () => {
    const pids = new Set<number>();
    // Fresh connections reach both workers in the end (the kernel spreads them; a busy machine
    // may send a run of them to one): at least 40 requests, and on until both have counted some.
    let n = 0;
    while (n < 40 || (pids.size < 2 && n < 400)) {
      const res = await ask(n % 2 === 0);
      expect(res.status).toBe(200);
      n++;
      pids.add((await health(relay!.url)).body.workers.pid);
    }
    expect(pids.size).toBe(2);
    const samples = await scrape();
    expect(total(samples, 'relay_requests_total', { status_class: '2xx' })).toBe(n);
    expect(total(samples, 'relay_tokens_total', { type: 'input' })).toBe(n * USAGE.input_tokens);
    expect(total(samples, 'relay_tokens_total', { type: 'output' })).toBe(n * USAGE.output_tokens);
    expect(total(samples, 'relay_tokens_total', { type: 'cache_read' })).toBe(n * USAGE.cache_read_input_tokens);
    expect(total(samples, 'relay_request_duration_seconds_count')).toBe(n);
    expect(total(samples, 'relay_workers', { state: 'configured' })).toBe(2);
    expect(total(samples, 'relay_workers', { state: 'alive' })).toBe(2);
    expect(total(samples, 'relay_build_info')).toBe(1);
    expect(total(samples, 'relay_redis_up')).toBe(1);
    // One series per label set: the primary merged the workers' samples, it did not list them twice.
    const keys = samples.map((s) => `${s.name}${JSON.stringify(s.labels)}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(total(samples, 'relay_node_memory_bytes', { kind: 'total' })).toBeGreaterThan(0);
    expect(total(samples, 'relay_heartbeat_timestamp_seconds')).toBeGreaterThan(Date.now() / 1000 - 60);

    // The same scrape on the main port, behind the token.
    const viaMain = await freshRequest(`${relay!.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    expect(viaMain.status).toBe(200);
    expect(total(parseExposition(viaMain.body), 'relay_requests_total', { status_class: '2xx' })).toBe(n);
    // The listener is loopback only and serves nothing else.
    expect((await freshRequest(`http://127.0.0.1:${metricsPort}/`)).status).toBe(404);
  });

  it('keeps a killed worker’s counts: the node’s counters never go back, and the restart is counted', async () => {
    const before = await scrape();
    const requestsBefore = total(before, 'relay_requests_total');
    const workers = new Set<number>();
    await pollUntil('both workers to answer', async () => {
      workers.add((await health(relay!.url)).body.workers.pid);
      return workers.size === 2 ? true : undefined;
    });
    const [victim] = [...workers] as [number];
    process.kill(victim, 'SIGKILL');
    await pollUntil(`worker ${victim} to die`, () => (isAlive(victim) ? undefined : true), 5_000);

    const after = await pollUntil(
      'the replacement worker to be counted',
      async () => {
        const s = await scrape();
        return total(s, 'relay_workers', { state: 'alive' }) === 2 ? s : undefined;
      },
      20_000,
      200,
    );
    expect(total(after, 'relay_worker_restarts_total')).toBe(1);
    // Every counter of the dead worker is still in the sum (the scrape before it died saw them all).
    for (const s of before.filter((x) => x.name.startsWith('relay_') && x.name.endsWith('_total'))) {
      expect(total(after, s.name, s.labels), s.name).toBeGreaterThanOrEqual(s.value);
    }
    expect(total(after, 'relay_requests_total')).toBe(requestsBefore);
    for (let i = 0; i < 10; i++) expect((await ask(false)).status).toBe(200);
    const later = await scrape();
    expect(total(later, 'relay_requests_total')).toBe(requestsBefore + 10);
    expect(total(later, 'relay_tokens_total', { type: 'input' })).toBe(50 * USAGE.input_tokens);
  });
});
