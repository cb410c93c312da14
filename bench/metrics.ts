/**
 * What observability costs on the hot path: the same relay with metrics off (METRICS_PORT=off),
 * with metrics on, and with metrics and the per-request access log on (LOG_LEVEL=info, written to
 * /dev/null), measured in interleaved rounds of the same run. Prints medians of req/s, the relay
 * process tree's CPU milliseconds per request, and its peak RSS.
 *
 *   npm run build && node --import tsx bench/metrics.ts -- [--rounds 3] [--duration 5] [--workers 2]
 */
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { startStandaloneRedis } from '../test/support/redis-servers.js';
import { api, load, login, startFakeUpstream, startRelay, stopChildren, treeUsage } from './harness.js';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    duration: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '2' },
    connections: { type: 'string', default: '50' },
    workers: { type: 'string', default: '2' },
  },
});
const ROUNDS = Number(args.rounds);
const DURATION = Number(args.duration);
const WARMUP = Number(args.warmup);
const CONNECTIONS = Number(args.connections);

const VARIANTS = {
  'metrics off': { METRICS_PORT: 'off', LOG_LEVEL: 'warn' },
  'metrics on': { METRICS_PORT: '0', LOG_LEVEL: 'warn' },
  'metrics + access log': { METRICS_PORT: '0', LOG_LEVEL: 'info' },
} as const;
type Variant = keyof typeof VARIANTS;

interface Sample {
  rps: number;
  cpuMsPerRequest: number;
  rssBytes: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
};

async function main() {
  const redis = await startStandaloneRedis();
  if (redis.target.kind !== 'url') throw new Error('unexpected');
  const fake = await startFakeUpstream();
  const relays = new Map<Variant, { url: string; pid: number; key: string }>();
  for (const [name, env] of Object.entries(VARIANTS) as [Variant, Record<string, string>][]) {
    const { url, proc } = await startRelay({
      ...env,
      WORKERS: args.workers,
      REDIS_URL: redis.target.url,
      REDIS_KEY_PREFIX: `bench-${relays.size}:`,
    });
    const token = await login(url);
    const account = await api<{ id: string }>(url, '/admin/accounts', token, {
      platform: 'claude',
      type: 'api-key',
      name: 'bench',
      apiKey: 'sk-ant-bench-0-00000000000000000',
      baseUrl: fake.url,
    });
    const { key } = await api<{ key: string }>(url, '/admin/api-keys', token, {
      name: 'bench',
      accountIds: [account.id],
    });
    relays.set(name, { url, pid: proc.pid ?? 0, key });
  }

  const samples = new Map<string, Sample[]>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const stream of [false, true]) {
      // A different order each round, so no variant always runs first (or on a warmer machine).
      const order = [...relays.keys()];
      for (let i = 0; i < round; i++) order.push(order.shift() as Variant);
      for (const name of order) {
        const r = relays.get(name);
        if (!r) continue;
        const headers = { 'x-api-key': r.key, 'anthropic-version': '2023-06-01' };
        const url = `${r.url}/api/v1/messages`;
        await load(url, headers, stream, { duration: WARMUP, connections: CONNECTIONS });
        const before = treeUsage(r.pid);
        let peak = before.rssBytes;
        const watch = setInterval(() => (peak = Math.max(peak, treeUsage(r.pid).rssBytes)), 500);
        const m = await load(url, headers, stream, { duration: DURATION, connections: CONNECTIONS });
        clearInterval(watch);
        const after = treeUsage(r.pid);
        if (m.non2xx > 0 || m.errors > 0) throw new Error(`${name}: ${m.non2xx} non-2xx, ${m.errors} errors`);
        const id = `${stream ? 'stream' : 'non-stream'}|${name}`;
        const list = samples.get(id) ?? [];
        list.push({
          rps: m.rps,
          cpuMsPerRequest: ((after.cpuSeconds - before.cpuSeconds) * 1000) / m.requests,
          rssBytes: peak,
        });
        samples.set(id, list);
        await sleep(500);
      }
    }
  }

  console.log(
    `\nmachine: ${os.cpus().length} cores, node ${process.version}; ${CONNECTIONS} connections, ${ROUNDS} rounds of ${DURATION}s, relay workers ${args.workers}; medians`,
  );
  console.log('mode       | variant               |  req/s | vs off | relay CPU ms/req | peak RSS MB');
  for (const stream of [false, true]) {
    const mode = stream ? 'stream' : 'non-stream';
    const base = median((samples.get(`${mode}|metrics off`) ?? []).map((s) => s.rps));
    for (const name of relays.keys()) {
      const list = samples.get(`${mode}|${name}`) ?? [];
      const rps = median(list.map((s) => s.rps));
      console.log(
        `${mode.padEnd(10)} | ${name.padEnd(21)} | ${rps.toFixed(0).padStart(6)} | ${(((rps - base) / base) * 100).toFixed(1).padStart(5)}% | ${median(
          list.map((s) => s.cpuMsPerRequest),
        )
          .toFixed(3)
          .padStart(16)} | ${(median(list.map((s) => s.rssBytes)) / 2 ** 20).toFixed(0).padStart(11)}`,
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
