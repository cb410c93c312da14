/**
 * What a large export costs the requests served beside it. Two relays share one Redis holding
 * the usage of 1,000 keys over 90 days (booked through the real recorder): one with the thread
 * pool (WORK_THREADS=1, the default on 2 cores) and one running the same export work on its
 * event loop (WORK_THREADS=0). Each round, for each relay in turn: the standard load alone, then
 * the same load while `curl` pulls the 90,000-row CSV export again and again (curl in its own
 * process, the load generator in autocannon's worker threads). Prints medians of p50/p99, req/s,
 * the relay tree's CPU ms per request and peak RSS, and one export's size and time.
 *
 *   npm run build && node --import tsx bench/export.ts [--rounds 3] [--duration 8] [--keys 1000] [--days 90]
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { AccountId, ApiKeyId } from '../src/ids.js';
import { openStore } from '../src/store/index.js';
import { createUsageRecorder, type UsageEvent } from '../src/usage/recorder.js';
import { silentLogger } from '../src/util/log.js';
import { startStandaloneRedis } from '../test/support/redis-servers.js';
import { api, load, login, startFakeUpstream, startRelay, stopChildren, treeUsage } from './harness.js';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    duration: { type: 'string', default: '8' },
    warmup: { type: 'string', default: '2' },
    connections: { type: 'string', default: '50' },
    workers: { type: 'string', default: '2' },
    keys: { type: 'string', default: '1000' },
    days: { type: 'string', default: '90' },
  },
});
const ROUNDS = Number(args.rounds);
const DURATION = Number(args.duration);
const WARMUP = Number(args.warmup);
const CONNECTIONS = Number(args.connections);
const KEYS = Number(args.keys);
const DAYS = Number(args.days);
const PREFIX = 'bench-export:';
const DAY_MS = 86_400_000;

const VARIANTS = { 'thread pool': '1', 'event loop': '0' } as const;
type Variant = keyof typeof VARIANTS;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
};

/** One booked request per key and day, through the real recorder (the real bucket layout). */
async function seed(redisUrl: string, keyIds: string[], accountId: string, to: number): Promise<void> {
  const store = await openStore({ target: { kind: 'url', url: redisUrl }, keyPrefix: PREFIX, log: silentLogger });
  const recorder = createUsageRecorder({ store, log: silentLogger, timeZone: 'UTC', recordsKept: 0 });
  let n = 0;
  for (let d = DAYS; d >= 1; d--) {
    const startedAt = to - d * DAY_MS + 3_600_000;
    const day: Promise<void>[] = [];
    for (const keyId of keyIds) {
      const e: UsageEvent = {
        requestId: `seed-${n++}`,
        keyId: keyId as ApiKeyId,
        accountId: accountId as AccountId,
        platform: 'claude',
        model: 'claude-sonnet-5-5',
        endpoint: '/v1/messages',
        stream: false,
        status: 200,
        outcome: 'ok',
        usage: {
          inputTokens: 1_000 + (n % 97),
          outputTokens: 200 + (n % 13),
          cacheCreate5mTokens: 0,
          cacheCreate1hTokens: 0,
          cacheReadTokens: n % 500,
          webSearchRequests: 0,
        },
        costPico: 3_000_000_000 + n,
        pricedAs: 'claude-sonnet-5-5',
        priceSource: 'exact',
        startedAt,
        durationMs: 1_000,
        ttfbMs: 100,
      };
      day.push(recorder.record(e));
    }
    await Promise.all(day);
  }
  if (!(await recorder.flush(60_000))) throw new Error('seeding did not finish');
  await store.close();
}

/** `curl` fetching the export, in a loop, until killed; resolves with the loop's process. */
function exportLoop(url: string, token: string) {
  return spawn(
    'sh',
    ['-c', `while :; do curl -sS -o /dev/null -H "authorization: Bearer ${token}" "${url}" || exit 1; done`],
    { stdio: 'ignore' },
  );
}

async function timeOneExport(url: string, token: string): Promise<{ ms: number; bytes: number; rows: number }> {
  const t0 = performance.now();
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`export: ${res.status} ${await res.text()}`);
  let bytes = 0;
  let rows = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    bytes += chunk.length;
    for (const b of chunk) if (b === 10) rows++;
  }
  return { ms: performance.now() - t0, bytes, rows: rows - 1 };
}

async function main() {
  const redis = await startStandaloneRedis();
  if (redis.target.kind !== 'url') throw new Error('unexpected');
  const fake = await startFakeUpstream();
  const relays = new Map<Variant, { url: string; pid: number; token: string }>();
  for (const [name, threads] of Object.entries(VARIANTS) as [Variant, string][]) {
    const { url, proc } = await startRelay({
      WORKERS: args.workers,
      WORK_THREADS: threads,
      REDIS_URL: redis.target.url,
      REDIS_KEY_PREFIX: PREFIX,
      STATS_TIMEZONE: 'UTC',
      USAGE_RECORDS_KEPT: '0',
    });
    relays.set(name, { url, pid: proc.pid ?? 0, token: await login(url) });
  }
  const first = [...relays.values()][0]!;
  const account = await api<{ id: string }>(first.url, '/admin/accounts', first.token, {
    platform: 'claude',
    type: 'api-key',
    name: 'bench',
    apiKey: 'sk-ant-bench-0-00000000000000000',
    baseUrl: fake.url,
  });
  const { key } = await api<{ key: string }>(first.url, '/admin/api-keys', first.token, {
    name: 'load',
    accountIds: [account.id],
  });
  const keyIds: string[] = [];
  for (let i = 0; i < KEYS; i++) {
    const k = await api<{ id: string }>(first.url, '/admin/api-keys', first.token, { name: `export-${i}` });
    keyIds.push(k.id);
  }
  const today = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
  const t0 = performance.now();
  await seed(redis.target.url, keyIds, account.id, today);
  console.log(`seeded ${KEYS} keys × ${DAYS} days in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const from = new Date(today - DAYS * DAY_MS).toISOString().slice(0, 10);
  const to = new Date(today).toISOString().slice(0, 10);
  const exportPath = `/admin/export/usage?format=csv&group=key&step=day&from=${from}&to=${to}`;
  const single = new Map<Variant, { ms: number; bytes: number; rows: number }>();
  for (const [name, r] of relays) single.set(name, await timeOneExport(r.url + exportPath, r.token));

  const samples = new Map<string, { p50: number; p99: number; rps: number; cpu: number; rss: number }[]>();
  for (let round = 0; round < ROUNDS; round++) {
    const order = [...relays.keys()];
    if (round % 2 === 1) order.reverse();
    for (const name of order) {
      const r = relays.get(name)!;
      const headers = { 'x-api-key': key, 'anthropic-version': '2023-06-01' };
      for (const withExport of [false, true]) {
        const loop = withExport ? exportLoop(r.url + exportPath, r.token) : undefined;
        await load(`${r.url}/api/v1/messages`, headers, false, { duration: WARMUP, connections: CONNECTIONS });
        const before = treeUsage(r.pid);
        let peak = before.rssBytes;
        const watch = setInterval(() => (peak = Math.max(peak, treeUsage(r.pid).rssBytes)), 250);
        const m = await load(`${r.url}/api/v1/messages`, headers, false, {
          duration: DURATION,
          connections: CONNECTIONS,
        });
        clearInterval(watch);
        const after = treeUsage(r.pid);
        if (loop) {
          if (loop.exitCode !== null) throw new Error(`${name}: the export loop failed`);
          loop.kill('SIGKILL');
        }
        if (m.non2xx > 0 || m.errors > 0) throw new Error(`${name}: ${m.non2xx} non-2xx, ${m.errors} errors`);
        const id = `${name}|${withExport ? 'with export' : 'alone'}`;
        const list = samples.get(id) ?? [];
        list.push({
          p50: m.p50,
          p99: m.p99,
          rps: m.rps,
          cpu: ((after.cpuSeconds - before.cpuSeconds) * 1000) / m.requests,
          rss: peak,
        });
        samples.set(id, list);
        await sleep(1_000);
      }
    }
  }

  console.log(
    `\nmachine: ${os.cpus().length} cores, node ${process.version}; ${CONNECTIONS} connections non-stream, ${ROUNDS} rounds of ${DURATION} s, relay workers ${args.workers}; medians`,
  );
  for (const [name, s] of single)
    console.log(
      `one export (${name}): ${s.rows} rows, ${(s.bytes / 2 ** 20).toFixed(1)} MB in ${(s.ms / 1000).toFixed(2)} s (no load)`,
    );
  console.log(
    'relay        | load              | p50 ms | p99 ms | p99 vs alone |  req/s | CPU ms/req (relay tree) | peak RSS MB',
  );
  for (const name of relays.keys()) {
    const alone = median((samples.get(`${name}|alone`) ?? []).map((s) => s.p99));
    for (const mode of ['alone', 'with export']) {
      const list = samples.get(`${name}|${mode}`) ?? [];
      const p99 = median(list.map((s) => s.p99));
      console.log(
        `${name.padEnd(12)} | ${mode.padEnd(17)} | ${String(median(list.map((s) => s.p50))).padStart(6)} | ${String(p99).padStart(6)} | ${(mode === 'alone' ? '' : `${(((p99 - alone) / alone) * 100).toFixed(1)} %`).padStart(12)} | ${median(
          list.map((s) => s.rps),
        )
          .toFixed(0)
          .padStart(6)} | ${median(list.map((s) => s.cpu))
          .toFixed(3)
          .padStart(23)} | ${(median(list.map((s) => s.rss)) / 2 ** 20).toFixed(0).padStart(11)}`,
      );
    }
  }
  stopChildren();
  await redis.stop();
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(err);
  stopChildren();
  process.exit(1);
});
