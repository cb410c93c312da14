/**
 * Load test: the fake Anthropic upstream measured directly and through the relay, in one run, on
 * this machine. Prints req/s, p50/p99 and the relay/direct ratio for non-streaming and streaming
 * requests, then checks that every request the upstream served was booked exactly once.
 *
 *   npm run bench -- [--duration 10] [--connections 50] [--workers 2]
 *
 * Two relay scenarios run per mode: `plain` (a key without limits, one account) and `pool` (three
 * accounts, a key with a concurrency limit, a rate window and daily/weekly/total budgets, and 100
 * conversations with session headers): the difference is what the scheduler, the limits and
 * sticky sessions cost per request.
 *
 * Everything runs on 127.0.0.1: a private redis-server, the fake upstream (its own process), the
 * built relay (`dist/main.js`, its own primary + workers) and autocannon in this process.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { startStandaloneRedis } from '../test/support/redis-servers.js';
import { api, load as loadRun, login, startFakeUpstream, startRelay, stopChildren, type Measured } from './harness.js';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '50' },
    workers: { type: 'string', default: '2' },
    warmup: { type: 'string', default: '3' },
  },
});
const DURATION = Number(args.duration);
const CONNECTIONS = Number(args.connections);
const WORKERS = Number(args.workers);
const WARMUP = Number(args.warmup);
const PREFIX = 'bench:';

const load = (url: string, headers: Record<string, string>, stream: boolean, duration: number, sessions = 0) =>
  loadRun(url, headers, stream, { duration, connections: CONNECTIONS, sessions });

/** Answers the upstream began (a stream the relay cut after its usage was known counts too). */
async function answered(statsUrl: string): Promise<number> {
  return ((await (await fetch(statsUrl)).json()) as { answered: number }).answered;
}

async function main() {
  const redis = await startStandaloneRedis();
  if (redis.target.kind !== 'url') throw new Error('unexpected');

  const fake = await startFakeUpstream();
  const { url: relayUrl, proc: relayProc } = await startRelay({
    WORKERS: String(WORKERS),
    REDIS_URL: redis.target.url,
    REDIS_KEY_PREFIX: PREFIX,
    METRICS_PORT: '0',
  });
  const token = await login(relayUrl);
  // The plain key is bound to the first account only; the pool key uses the shared pool of three.
  const accountIds: string[] = [];
  for (const i of [0, 1, 2]) {
    const a = await api<{ id: string }>(relayUrl, '/admin/accounts', token, {
      platform: 'claude',
      type: 'api-key',
      name: `bench-${i}`,
      apiKey: `sk-ant-bench-${i}-00000000000000000`,
      baseUrl: fake.url,
    });
    accountIds.push(a.id);
  }
  const key = await api<{ id: string; key: string }>(relayUrl, '/admin/api-keys', token, {
    name: 'bench',
    accountIds: [accountIds[0]],
  });
  const poolKey = await api<{ id: string; key: string }>(relayUrl, '/admin/api-keys', token, {
    name: 'bench-pool',
    concurrencyLimit: 10_000,
    rateWindowMinutes: 60,
    rateLimitRequests: 1_000_000_000,
    dailyCostLimit: 1_000_000,
    weeklyCostLimit: 1_000_000,
    totalCostLimit: 1_000_000,
  });

  const direct = {
    url: `${fake.url}/v1/messages`,
    headers: { 'x-api-key': 'sk-ant-bench-0-00000000000000000', 'anthropic-version': '2023-06-01' },
  };
  const relay = {
    url: `${relayUrl}/api/v1/messages`,
    headers: { 'x-api-key': key.key, 'anthropic-version': '2023-06-01' },
  };
  const pooled = {
    url: `${relayUrl}/api/v1/messages`,
    headers: { 'x-api-key': poolKey.key, 'anthropic-version': '2023-06-01' },
  };

  // Direct runs first, then the relay runs, then a drain: every upstream answer the relay caused
  // (including those still in flight when autocannon stops and hangs up) is counted before the
  // bookings are compared with it.
  const modes = [false, true];
  const directRuns = new Map<boolean, Measured>();
  for (const stream of modes) {
    await load(direct.url, direct.headers, stream, WARMUP);
    directRuns.set(stream, await load(direct.url, direct.headers, stream, DURATION));
  }
  await sleep(1_000);
  const before = await answered(fake.stats);
  const rows: { mode: string; direct: Measured; relay: Measured }[] = [];
  for (const stream of modes) {
    await load(relay.url, relay.headers, stream, WARMUP);
    const r = await load(relay.url, relay.headers, stream, DURATION);
    rows.push({ mode: stream ? 'stream' : 'non-stream', direct: directRuns.get(stream) as Measured, relay: r });
    await load(pooled.url, pooled.headers, stream, WARMUP, 100);
    const p = await load(pooled.url, pooled.headers, stream, DURATION, 100);
    rows.push({
      mode: `${stream ? 'stream' : 'non-stream'} pool`,
      direct: directRuns.get(stream) as Measured,
      relay: p,
    });
  }

  // Drain the relay (SIGTERM lets in-flight calls finish and flushes every pending usage write).
  const exited = new Promise<number | null>((r) => relayProc.once('exit', (code) => r(code)));
  relayProc.kill('SIGTERM');
  const exitCode = await exited;
  const servedViaRelay = (await answered(fake.stats)) - before;
  const client = new Redis(redis.target.url);
  const sumOf = async (keys: string[], field: string) =>
    (await Promise.all(keys.map((k) => client.hget(k, field)))).reduce((a, v) => a + Number(v ?? 0), 0);
  const keyTotals = [key.id, poolKey.id].map((id) => `${PREFIX}usage:{${id}}`);
  const booked = await sumOf(keyTotals, 'requests');
  const bookedErrors = await sumOf(keyTotals, 'errors');
  const bookedAccount = await sumOf(
    accountIds.map((id) => `${PREFIX}account_usage:{${id}}`),
    'requests',
  );
  const perAccount = await Promise.all(
    accountIds.map((id) => client.hget(`${PREFIX}account_usage:{${id}}`, 'requests')),
  );
  client.disconnect();

  const fmt = (n: number) => n.toFixed(0).padStart(8);
  console.log(
    `\nmachine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), node ${process.version}; ${CONNECTIONS} connections, ${DURATION}s per run, relay workers ${WORKERS}`,
  );
  console.log(
    'mode             |  direct req/s  p50ms  p99ms |   relay req/s  p50ms  p99ms |  ratio | relay non2xx/errors',
  );
  for (const { mode, direct: d, relay: r } of rows) {
    console.log(
      `${mode.padEnd(16)} | ${fmt(d.rps)} ${String(d.p50).padStart(6)} ${String(d.p99).padStart(6)} | ${fmt(r.rps)} ${String(r.p50).padStart(6)} ${String(r.p99).padStart(6)} | ${((100 * r.rps) / d.rps).toFixed(1).padStart(5)}% | ${r.non2xx}/${r.errors}`,
    );
  }
  console.log(
    `upstream answers via relay: ${servedViaRelay}; booked for the keys: ${booked} (upstream errors: ${bookedErrors}); for the accounts: ${bookedAccount} (${perAccount.join(' / ')}); lost: ${servedViaRelay - booked}; relay exit code ${exitCode}`,
  );

  mkdirSync('bench/results', { recursive: true });
  const file = `bench/results/${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
  writeFileSync(
    file,
    JSON.stringify(
      {
        at: new Date().toISOString(),
        cores: os.cpus().length,
        connections: CONNECTIONS,
        duration: DURATION,
        workers: WORKERS,
        rows,
        servedViaRelay,
        booked,
        bookedAccount,
      },
      null,
      2,
    ),
  );
  console.log(`results: ${file}`);

  stopChildren();
  await redis.stop();
  process.exit(servedViaRelay === booked && servedViaRelay === bookedAccount ? 0 : 1);
}

main().catch((err: unknown) => {
  console.error(err);
  stopChildren();
  process.exit(1);
});
