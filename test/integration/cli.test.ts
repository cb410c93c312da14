import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.js';
import { listen } from '../fakes/server-kit.js';
import { crs, type CrsRun } from '../support/crs.js';
import {
  ADMIN_PASSWORD,
  ADMIN_USER,
  startTestRelay,
  testEnv,
  uniquePrefix,
  type TestRelay,
  type UsageReport,
} from '../support/relay.js';

const KEY_PATTERN = /cr_[0-9a-f]{64}/g;
const UPSTREAM_KEY = 'sk-ant-cli-test-000000000000000000000000';

/**
 * `crs` as its users run it: a child process with the relay's environment, against the test
 * Redis, while a relay of the same deployment (same key prefix) runs in this process and must see
 * every change at once (pub/sub invalidation).
 */
describe('crs (command-line administration)', () => {
  const prefix = uniquePrefix();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'crs-cli-'));
  const env: Record<string, string> = { ...testEnv(prefix), DATA_DIR: dataDir };
  const run = (...args: string[]) => crs(args, { env });
  const runJson = async <T = Record<string, unknown>>(...args: string[]): Promise<T> => {
    const r = await run(...args, '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout) as T;
  };

  let fake: FakeAnthropic;
  let relay: TestRelay;
  let prices: http.Server;
  let pricesUrl = '';
  const documents = new Map<string, string>();

  const ask = (key: string, model = 'claude-sonnet-4-5') =>
    fetch(`${relay.url}/api/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': key, 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model, max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] }),
    }).then(async (res) => ({ status: res.status, body: (await res.json()) as Record<string, unknown> }));

  /** Waits until the relay answers `key` with `status` (invalidation crosses pub/sub). */
  const expectStatus = (key: string, status: number) =>
    vi.waitFor(async () => expect((await ask(key)).status).toBe(status), { timeout: 3_000, interval: 50 });

  beforeAll(async () => {
    fake = await startFakeAnthropic();
    relay = await startTestRelay({ prefix });
    prices = http.createServer((req, res) => {
      const body = documents.get(req.url ?? '');
      if (body === undefined) return void res.writeHead(404).end('not found');
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    });
    pricesUrl = `http://127.0.0.1:${await listen(prices)}`;
  });
  afterAll(async () => {
    await relay?.close();
    await fake?.close();
    await new Promise((resolve) => prices?.close(resolve));
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('prints help for every group, and exits non-zero on unknown commands', async () => {
    const help = await run('help');
    expect(help.code).toBe(0);
    for (const line of ['crs keys create', 'crs accounts create', 'crs admin password', 'crs pricing refresh'])
      expect(help.stdout).toContain(line);
    for (const group of ['keys', 'accounts', 'admin', 'pricing']) {
      const r = await run(group, '--help');
      expect(r.code, group).toBe(0);
      expect(r.stdout).toContain(`crs ${group} `);
    }
    const unknown = await run('frobnicate');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/Unknown command "frobnicate"/);
  });

  let accountId = '';
  let keyId = '';
  let key = '';

  it('creates an account without ever printing its API key', async () => {
    const created = await run(
      'accounts',
      'create',
      '--platform',
      'claude',
      '--type',
      'api-key',
      '--name',
      'cli upstream',
      '--api-key',
      UPSTREAM_KEY,
      '--base-url',
      fake.url,
      '--priority',
      '10',
    );
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/Created account a_[0-9a-z]{16}/);
    accountId = /a_[0-9a-z]{16}/.exec(created.stdout)?.[0] ?? '';
    const list = await run('accounts', 'list');
    const listJson = await run('accounts', 'list', '--json');
    const show = await run('accounts', 'show', accountId, '--json');
    for (const r of [created, list, listJson, show]) {
      expect(r.stdout).not.toContain(UPSTREAM_KEY);
      expect(r.stdout).not.toContain(UPSTREAM_KEY.slice(0, 20));
    }
    expect(list.stdout).toContain(accountId);
    const items = (
      JSON.parse(listJson.stdout) as {
        items: { id: string; priority: number; credentialHints: Record<string, string> }[];
      }
    ).items;
    expect(items).toEqual([
      expect.objectContaining({ id: accountId, priority: 10, credentialHints: { apiKey: '…0000' } }),
    ]);
    expect(JSON.parse(show.stdout)).toMatchObject({
      id: accountId,
      baseUrl: fake.url,
      platform: 'claude',
      type: 'api-key',
    });
  });

  it('prints a new key once; show and list never print it; the key works on the running relay', async () => {
    const human = await run('keys', 'create', '--name', 'printed once');
    expect(human.code).toBe(0);
    expect(human.stdout.match(KEY_PATTERN)).toHaveLength(1);

    const created = await runJson<{ id: string; key: string; name: string; active: boolean; expiresAt: string | null }>(
      'keys',
      'create',
      '--name',
      'cli key',
      '--description',
      'made by crs',
    );
    expect(created).toMatchObject({ name: 'cli key', active: true, expiresAt: null });
    expect(created.key).toMatch(/^cr_[0-9a-f]{64}$/);
    ({ id: keyId, key } = created);

    for (const args of [
      ['keys', 'show', keyId],
      ['keys', 'show', keyId, '--json'],
      ['keys', 'list'],
      ['keys', 'list', '--json'],
    ]) {
      const r = await run(...args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout).toContain(keyId);
      expect(r.stdout).not.toMatch(KEY_PATTERN);
    }

    const answer = await ask(key);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      type: 'message',
      content: [{ type: 'text', text: 'Hello from the fake upstream.' }],
    });
    expect(fake.requests.at(-1)?.apiKey).toBe(UPSTREAM_KEY);
  });

  it('update, disable, expiry and delete of a key take effect on the running relay', async () => {
    const disabled = await runJson('keys', 'update', keyId, '--active', 'false');
    expect(disabled).toMatchObject({ id: keyId, active: false });
    await expectStatus(key, 401);
    expect((await ask(key)).body).toMatchObject({ error: { message: 'This API key is disabled.' } });

    await runJson('keys', 'update', keyId, '--active', 'true', '--name', 'renamed');
    await expectStatus(key, 200);
    expect(await runJson('keys', 'show', keyId)).toMatchObject({ name: 'renamed', active: true });

    expect(await runJson('keys', 'update', keyId, '--expires', '2001-01-01T00:00:00Z')).toMatchObject({
      expiresAt: '2001-01-01T00:00:00.000Z',
    });
    await expectStatus(key, 401);
    expect(await runJson('keys', 'update', keyId, '--expires', 'never')).toMatchObject({ expiresAt: null });
    await expectStatus(key, 200);

    const usage = await runJson<UsageReport>('keys', 'usage', keyId, '--days', '2');
    expect(usage.daily).toHaveLength(2);
    expect(usage.total.requests).toBeGreaterThanOrEqual(3);
    const table = await run('keys', 'usage', keyId);
    expect(table.stdout).toMatch(/All time\s+\d/);
    expect(table.stdout).toContain('claude-sonnet-4-5');

    const throwaway = await runJson<{ id: string; key: string }>('keys', 'create', '--name', 'to delete');
    await expectStatus(throwaway.key, 200);
    expect(await runJson('keys', 'delete', throwaway.id)).toEqual({ deleted: throwaway.id });
    await expectStatus(throwaway.key, 401);
    const gone = await run('keys', 'show', throwaway.id);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain(`No API key with id "${throwaway.id}"`);
  });

  it('account changes take effect on the running relay', async () => {
    expect(await runJson('accounts', 'update', accountId, '--schedulable', 'false')).toMatchObject({
      schedulable: false,
    });
    await expectStatus(key, 503);
    await runJson('accounts', 'update', accountId, '--schedulable', 'true', '--priority', '20');
    await expectStatus(key, 200);
    const usage = await runJson<UsageReport>('accounts', 'usage', accountId, '--days', '1');
    expect(usage.total.requests).toBeGreaterThan(0);

    // `--api-key -` reads the key from stdin, so it never appears on the command line.
    const piped = await crs(
      [
        'accounts',
        'create',
        '--platform',
        'claude',
        '--type',
        'api-key',
        '--name',
        'spare',
        '--api-key',
        '-',
        '--json',
      ],
      {
        env,
        input: 'sk-ant-from-stdin-0000000000000000abcd\n',
      },
    );
    expect(piped.code).toBe(0);
    expect(piped.stdout).not.toContain('sk-ant-from-stdin');
    const spare = JSON.parse(piped.stdout) as { id: string };
    expect(spare).toMatchObject({ baseUrl: 'https://api.anthropic.com', credentialHints: { apiKey: '…abcd' } });
    expect(await runJson('accounts', 'delete', spare.id)).toEqual({ deleted: spare.id });
    const gone = await run('accounts', 'show', spare.id);
    expect(gone.code).toBe(1);
  });

  it('refuses invalid input with a clear message, a non-zero exit, and no change', async () => {
    const before = (await runJson<{ items: unknown[] }>('keys', 'list')).items.length;
    const cases: [string[], number, RegExp][] = [
      [['keys', 'create'], 2, /--name: required/],
      [['keys', 'create', '--name', 'x'.repeat(101)], 2, /--name: at most 100 characters/],
      [['keys', 'create', '--name', 'n', '--expires', 'next tuesday'], 2, /--expires: expected an ISO date/],
      [['keys', 'create', '--name', 'n', '--bogus'], 2, /Unknown option '--bogus'/],
      [['keys', 'update', keyId], 2, /Nothing to update/],
      [['keys', 'update', keyId, '--active', 'maybe'], 2, /--active: expected true or false/],
      [['keys', 'usage', keyId, '--days', '0'], 2, /--days: expected an integer from 1 to 400/],
      [['keys', 'show'], 2, /Missing ID/],
      [['keys', 'show', 'k_0000000000000000'], 1, /No API key with id "k_0000000000000000"/],
      [['keys', 'delete', 'not-an-id'], 1, /No API key with id "not-an-id"/],
      [
        ['accounts', 'create', '--platform', 'nope', '--type', 'api-key', '--name', 'n', '--api-key', UPSTREAM_KEY],
        2,
        /--platform: expected one of claude/,
      ],
      [
        ['accounts', 'create', '--platform', 'claude', '--type', 'cookie', '--name', 'n', '--api-key', UPSTREAM_KEY],
        2,
        /--type: claude accounts can be api-key, oauth/,
      ],
      [
        ['accounts', 'create', '--platform', 'claude', '--type', 'api-key', '--name', 'n', '--api-key', 'short'],
        2,
        /--api-key: at least 8 characters/,
      ],
      [
        [
          'accounts',
          'create',
          '--platform',
          'claude',
          '--type',
          'api-key',
          '--name',
          'n',
          '--api-key',
          UPSTREAM_KEY,
          '--priority',
          '0',
        ],
        2,
        /--priority: expected an integer from 1 to 100/,
      ],
      [['accounts', 'update', accountId, '--base-url', 'ftp://example.com'], 2, /--base-url: must be http\(s\)/],
      [['admin', 'password', '--password', 'too-short'], 2, /--password: at least 12 characters/],
      [['pricing', 'refresh'], 2, /--url: required/],
      [['pricing', 'refresh', '--url', 'http://x', '--format', 'xml'], 2, /--format: expected auto, crs, litellm/],
    ];
    const runs = await Promise.all(cases.map(([args]) => run(...args)));
    for (const [i, [args, code, message]] of cases.entries()) {
      const r = runs[i] as CrsRun;
      expect(r.code, args.join(' ')).toBe(code);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
    }
    expect((await runJson<{ items: unknown[] }>('keys', 'list')).items).toHaveLength(before);
    expect((await runJson<{ items: unknown[] }>('accounts', 'list')).items).toHaveLength(1);
  });

  it('refreshes pricing from a crs table; show and the running relay use the new prices', async () => {
    documents.set(
      '/crs.json',
      JSON.stringify({
        version: 'cli-crs-1',
        fallback: 'claude-sonnet-4-5',
        models: { 'claude-sonnet-4-5': { platform: 'claude', input: 1000, output: 2000 } },
      }),
    );
    const refreshed = await runJson('pricing', 'refresh', '--url', `${pricesUrl}/crs.json`);
    expect(refreshed).toMatchObject({ format: 'crs', version: 'cli-crs-1', models: 1, stored: true, written: null });

    const shown = await runJson<{
      version: string;
      source: string;
      model: { pricedAs: string; rule: string; usdPerMillionTokens: Record<string, number> };
    }>('pricing', 'show', '--model', 'claude-sonnet-4-5-20250929');
    expect(shown).toMatchObject({
      version: 'cli-crs-1',
      source: 'stored',
      model: { pricedAs: 'claude-sonnet-4-5', rule: 'alias' },
    });
    expect(shown.model.usdPerMillionTokens).toMatchObject({
      input: 1000,
      output: 2000,
      cacheWrite5m: 1250,
      cacheRead: 100,
    });
    const human = await run('pricing', 'show', '--model', 'claude-sonnet-4-5');
    expect(human.stdout).toMatch(/Pricing table cli-crs-1 \(stored/);
    expect(human.stdout).toMatch(/input\s+1000\n/);

    await vi.waitFor(() => expect(relay.instance.deps.pricing().version).toBe('cli-crs-1'), { timeout: 3_000 });
    // 25 input tokens at $1000/M + 12 output tokens at $2000/M = $0.049.
    expect(await costOfOneRequest()).toBe(49_000_000_000n);
  });

  it("refreshes pricing from LiteLLM's price list, writes the converted table, and resets to the shipped one", async () => {
    documents.set(
      '/model_prices_and_context_window.json',
      JSON.stringify({
        sample_spec: {
          litellm_provider: 'one of https://docs.litellm.ai/docs/providers',
          input_cost_per_token: 0,
          output_cost_per_token: 0,
        },
        'claude-sonnet-4-5': {
          litellm_provider: 'anthropic',
          mode: 'chat',
          input_cost_per_token: 7e-6,
          output_cost_per_token: 2.1e-5,
          cache_read_input_token_cost: 7e-7,
          cache_creation_input_token_cost: 8.75e-6,
        },
        'gpt-4o': {
          litellm_provider: 'openai',
          mode: 'chat',
          input_cost_per_token: 2.5e-6,
          output_cost_per_token: 1e-5,
        },
        'mistral-large': {
          litellm_provider: 'mistral',
          mode: 'chat',
          input_cost_per_token: 2e-6,
          output_cost_per_token: 6e-6,
        },
      }),
    );
    const file = path.join(dataDir, 'pricing.json');
    const refreshed = await run(
      'pricing',
      'refresh',
      '--url',
      `${pricesUrl}/model_prices_and_context_window.json`,
      '--write',
      file,
    );
    expect(refreshed.code).toBe(0);
    expect(refreshed.stdout).toMatch(/LiteLLM price list/);
    const written = JSON.parse(readFileSync(file, 'utf8')) as {
      fallback: string;
      models: Record<string, { input: number; output: number; platform: string }>;
    };
    expect(written.models['claude-sonnet-4-5']).toMatchObject({ platform: 'claude', input: 7, output: 21 });
    expect(written.models['gpt-4o']).toMatchObject({ platform: 'openai', input: 2.5, output: 10 });
    expect(written.models['mistral-large']).toBeUndefined();
    expect(written.models[written.fallback]).toBeDefined();

    const shown = await runJson<{ source: string; model: { usdPerMillionTokens: Record<string, number> } }>(
      'pricing',
      'show',
      '--model',
      'claude-sonnet-4-5',
    );
    expect(shown).toMatchObject({
      source: 'stored',
      model: { usdPerMillionTokens: { input: 7, output: 21, cacheRead: 0.7, cacheWrite5m: 8.75 } },
    });
    await vi.waitFor(
      () => expect(relay.instance.deps.pricing().resolve('claude-sonnet-4-5').base.input).toBe(7_000_000),
      { timeout: 3_000 },
    );
    // 25 × $7/M + 12 × $21/M = $0.000427.
    expect(await costOfOneRequest()).toBe(427_000_000n);

    // A bad document changes nothing.
    documents.set('/junk.json', JSON.stringify({ hello: 'world' }));
    documents.set('/broken.json', '{"models": ');
    for (const [url, message] of [
      [`${pricesUrl}/junk.json`, /neither a crs pricing table .* nor LiteLLM/],
      [`${pricesUrl}/broken.json`, /is not JSON/],
      [`${pricesUrl}/missing.json`, /HTTP 404/],
      [
        `${pricesUrl}/model_prices_and_context_window.json --format crs`,
        /Invalid pricing table: pricing table needs a "models" object/,
      ],
    ] as const) {
      const r = await run('pricing', 'refresh', '--url', ...url.split(' '));
      expect(r.code, url).toBe(1);
      expect(r.stderr).toMatch(message);
    }
    expect(await runJson('pricing', 'show', '--model', 'claude-sonnet-4-5')).toMatchObject({
      source: 'stored',
      model: { usdPerMillionTokens: { input: 7 } },
    });

    expect(await runJson('pricing', 'reset')).toMatchObject({ source: 'shipped' });
    expect(await runJson('pricing', 'show', '--model', 'claude-sonnet-4-5')).toMatchObject({
      source: 'shipped',
      model: { usdPerMillionTokens: { input: 3, output: 15 } },
    });
    await vi.waitFor(
      () => expect(relay.instance.deps.pricing().resolve('claude-sonnet-4-5').base.input).toBe(3_000_000),
      { timeout: 3_000 },
    );
  });

  /** Sends one request with the CLI-made key and returns what it was booked at, in picodollars. */
  async function costOfOneRequest(): Promise<bigint> {
    const before = await relay.admin.keyUsage(keyId);
    expect((await ask(key)).status).toBe(200);
    let after = before;
    await vi.waitFor(
      async () => {
        after = await relay.admin.keyUsage(keyId);
        expect(after.total.requests).toBe(before.total.requests + 1);
      },
      { timeout: 3_000 },
    );
    return BigInt(after.total.costPico) - BigInt(before.total.costPico);
  }

  it('admin password: reads stdin, ends every session; the new password logs in, the old one does not', async () => {
    const newPassword = 'a-brand-new-admin-password';
    const oldToken = relay.admin.token;
    expect((await relay.admin.request('GET', '/admin/api-keys')).status).toBe(200);

    const changed = await crs(['admin', 'password'], { env, input: `${newPassword}\n` });
    expect(changed.stderr).toBe('');
    expect(changed.code).toBe(0);
    expect(changed.stdout).toContain(`"${ADMIN_USER}"`);
    expect(changed.stdout).not.toContain(newPassword);

    expect((await relay.admin.request('GET', '/admin/api-keys', undefined, oldToken)).status).toBe(401);
    const login = (password: string) =>
      relay.admin.request('POST', '/admin/login', { username: ADMIN_USER, password }, '');
    expect((await login(ADMIN_PASSWORD)).status).toBe(401);
    expect((await login(newPassword)).status).toBe(200);

    const flagged = await runJson('admin', 'password', '--password', 'yet-another-password-2');
    expect(flagged).toEqual({ username: ADMIN_USER, sessionsEnded: true });
    expect((await login(newPassword)).status).toBe(401);
    await relay.admin.login(ADMIN_USER, 'yet-another-password-2');
    expect((await relay.admin.request('GET', '/admin/api-keys')).status).toBe(200);

    const empty = await crs(['admin', 'password'], { env, input: '' });
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/No new admin password given/);
  });

  it('without REDIS_URL, uses the embedded Redis socket in DATA_DIR, and says what to do when there is none', async () => {
    const { REDIS_URL: _url, REDIS_CLUSTER_NODES: _nodes, ...noRedis } = env;
    const missing = await crs(['keys', 'list'], { env: noRedis });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/Start the relay first/);
    expect(missing.stderr).toMatch(/REDIS_URL/);

    // A socket file left by a relay that was killed: a clear message, quickly.
    const stale = mkdtempSync(path.join(os.tmpdir(), 'crs-stale-'));
    try {
      mkdirSync(path.join(stale, 'redis'));
      writeFileSync(path.join(stale, 'redis', 'redis.sock'), '');
      const started = Date.now();
      const r = await crs(['keys', 'list'], { env: { ...noRedis, DATA_DIR: stale } });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/Cannot reach .*redis\.sock.*Start it first, or set REDIS_URL/);
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      rmSync(stale, { recursive: true, force: true });
    }

    const target = inject('redisTarget');
    if (target.kind !== 'url') return; // a unix socket in front of a Cluster is not one Redis
    // Stand in for the embedded Redis: a unix socket in DATA_DIR forwarding to the test Redis.
    const redisPort = Number(new URL(target.url).port);
    const socketPath = path.join(dataDir, 'redis', 'redis.sock');
    mkdirSync(path.dirname(socketPath), { recursive: true });
    const proxy = net.createServer((client) => {
      const upstream = net.connect(redisPort, '127.0.0.1');
      client.pipe(upstream).pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(socketPath, resolve));
    try {
      const r = await crs(['keys', 'list', '--json'], { env: noRedis });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect((JSON.parse(r.stdout) as { items: { id: string }[] }).items.map((k) => k.id)).toContain(keyId);
    } finally {
      await new Promise((resolve) => proxy.close(resolve));
    }
  });
});
