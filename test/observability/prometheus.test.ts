import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.js';
import { freePort, freshRequest, pollUntil, spawnRelay, type RelayProcess } from '../e2e/process.js';
import { AdminClient, testEnv, uniquePrefix } from '../support/relay.js';
import { ROOT, concreteExpr, dashboardExpressions } from './dashboards.js';

/**
 * The shipped dashboards against the real thing: Debian's Prometheus scrapes a relay of two
 * workers under a short, mixed load (streams and not, a failover, a rate-limited key, a wrong
 * key, conversations), loads the shipped alerting rules, and then every panel expression of every
 * dashboard is evaluated through Prometheus's HTTP API and must return data.
 */

const SCRAPE_EVERY = '1s';
const USAGE = {
  input_tokens: 30,
  output_tokens: 9,
  cache_read_input_tokens: 120,
  cache_creation_input_tokens: 40,
  cache_creation: { ephemeral_5m_input_tokens: 30, ephemeral_1h_input_tokens: 10 },
};

interface QueryAnswer {
  status: string;
  error?: string;
  data?: { resultType: string; result: unknown[] | [number, string] };
}

describe.skipIf(inject('redisTarget').kind === 'cluster')('the dashboards on a real Prometheus', () => {
  let fake: FakeAnthropic;
  let relay: RelayProcess | undefined;
  let prometheus: ChildProcess | undefined;
  let promUrl: string;
  let dir: string;
  let promLog = '';

  const query = async (expr: string): Promise<QueryAnswer> => {
    const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
    return (await res.json()) as QueryAnswer;
  };
  const hasData = (a: QueryAnswer) =>
    a.status === 'success' &&
    (a.data?.resultType === 'scalar' || a.data?.resultType === 'string' || (a.data?.result.length ?? 0) > 0);

  beforeAll(async () => {
    fake = await startFakeAnthropic();
    fake.setDefault({ kind: 'message', usage: USAGE });
    const metricsPort = await freePort();
    relay = await spawnRelay(
      testEnv(uniquePrefix(), { PORT: String(await freePort()), WORKERS: '2', METRICS_PORT: String(metricsPort) }),
    );
    const admin = new AdminClient(relay.url);
    await admin.login();
    const a = await admin.createAccount({ name: 'prom-a', apiKey: 'sk-ant-prom-a-000000000000', baseUrl: fake.url });
    const b = await admin.createAccount({
      name: 'prom-b',
      apiKey: 'sk-ant-prom-b-000000000000',
      baseUrl: fake.url,
      priority: 1,
    });
    await admin.request('POST', '/admin/groups', { name: 'prom', platform: 'claude', accountIds: [a.id, b.id] });
    const { key } = await admin.createKey({ name: 'prom load' });
    const { key: limited } = await admin.createKey({
      name: 'prom limited',
      rateWindowMinutes: 1,
      rateLimitRequests: 2,
    });

    dir = mkdtempSync(path.join(os.tmpdir(), 'crs-prom-'));
    const config = path.join(dir, 'prometheus.yml');
    writeFileSync(
      config,
      [
        'global:',
        `  scrape_interval: ${SCRAPE_EVERY}`,
        `  evaluation_interval: ${SCRAPE_EVERY}`,
        'rule_files:',
        `  - ${path.join(ROOT, 'alerts/prometheus/relay.rules.yml')}`,
        'scrape_configs:',
        '  - job_name: relay',
        '    static_configs:',
        `      - targets: ['127.0.0.1:${metricsPort}']`,
        '',
      ].join('\n'),
    );
    const promPort = await freePort();
    promUrl = `http://127.0.0.1:${promPort}`;
    prometheus = spawn(
      'prometheus',
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    prometheus.stderr?.setEncoding('utf8').on('data', (d: string) => (promLog += d));
    await pollUntil('Prometheus to be ready', async () => ((await fetch(`${promUrl}/-/ready`)).ok ? true : undefined));

    // A short mixed load, bounded in count: every family the dashboards draw gets samples.
    const ask = (apiKey: string, opts: { stream?: boolean; content?: string } = {}) =>
      freshRequest(`${relay!.url}/api/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
        body: JSON.stringify({
          model: 'claude-sonnet-4-5',
          max_tokens: 10,
          stream: opts.stream ?? false,
          messages: [{ role: 'user', content: opts.content ?? `hello ${Math.random()}` }],
        }),
      });
    const statuses: number[] = [];
    // b (preferred) is overloaded twice: those requests fail over to a, and b cools down.
    fake.script(
      'sk-ant-prom-b-000000000000',
      { kind: 'error', status: 529, type: 'overloaded_error', message: 'busy' },
      { kind: 'error', status: 529, type: 'overloaded_error', message: 'busy' },
    );
    const deadline = Date.now() + 8_000;
    for (let round = 0; round < 40 && Date.now() < deadline; round++) {
      const batch = await Promise.all([
        ask(key, { stream: true }),
        ask(key),
        ask(key, { content: 'one conversation' }),
        ask(limited),
        ask('cr_' + '3'.repeat(64)),
      ]);
      statuses.push(...batch.map((r) => r.status));
      await new Promise((r) => setTimeout(r, 150));
    }
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(40);
    expect(statuses).toContain(429);
    expect(statuses).toContain(401);
    // Enough scrapes for every rate() over a minute to have two points.
    await pollUntil(
      'Prometheus to hold five scrapes of the relay',
      async () => {
        const a = await query('count_over_time(up{job="relay"}[1m])');
        const n = Number((a.data?.result as { value: [number, string] }[] | undefined)?.[0]?.value[1] ?? 0);
        return n >= 5 ? true : undefined;
      },
      30_000,
      500,
    );
  }, 120_000);

  afterAll(async () => {
    prometheus?.kill('SIGKILL');
    relay?.killGroup();
    await fake?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('scrapes the node as one healthy target', async () => {
    const up = await query('up{job="relay"}');
    expect(up.data?.result).toHaveLength(1);
    expect((up.data?.result as { value: [number, string] }[])[0]?.value[1]).toBe('1');
  });

  it('answers every panel expression of every dashboard with data', async () => {
    const expressions = dashboardExpressions();
    expect(expressions.length).toBeGreaterThan(40);
    const empty: string[] = [];
    for (const { dashboard, panel, expr } of expressions) {
      const answer = await query(concreteExpr(expr));
      if (!hasData(answer)) empty.push(`${dashboard} / ${panel}: ${expr} → ${answer.error ?? 'no data'}`);
    }
    expect(empty, promLog.slice(-2_000)).toEqual([]);
  });

  it('loads the shipped alerting rules, and none of them fires on a healthy relay', async () => {
    const res = (await (await fetch(`${promUrl}/api/v1/rules`)).json()) as {
      data: { groups: { rules: { name: string; type: string; health: string; state?: string }[] }[] };
    };
    const rules = res.data.groups.flatMap((g) => g.rules);
    expect(rules.filter((r) => r.type === 'alerting').length).toBeGreaterThanOrEqual(10);
    expect(rules.filter((r) => r.health !== 'ok' && r.health !== 'unknown')).toEqual([]);
    expect(rules.filter((r) => r.type === 'alerting' && r.state === 'firing').map((r) => r.name)).toEqual([]);
  });
});
