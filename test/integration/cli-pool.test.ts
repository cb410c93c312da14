import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ACCOUNT_FIELDS, GROUP_FIELDS, KEY_FIELDS } from '../../src/admin/inputs.js';
import { ACCOUNT_FLAGS, GROUP_FLAGS, KEY_FLAGS } from '../../src/cli/flags.js';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.js';
import { crs, type CrsRun } from '../support/crs.js';
import { startTestRelay, testEnv, uniquePrefix, type TestRelay } from '../support/relay.js';

interface KeyJson {
  id: string;
  key: string;
  accountIds: string[];
  groupIds: string[];
  [field: string]: unknown;
}
interface HealthJson {
  routable: boolean;
  inFlight: number;
  blockers: { reason: string; scope: string; until: string | null; detail?: string }[];
}

/**
 * `crs` for the account pool: every key and account setting, groups, a key's limit usage, account
 * health and reset. Each setting goes in through the CLI (a child process on the test Redis) and
 * must be honoured by a relay of the same deployment running in this process.
 */
describe('crs: account pool settings, groups, limits and health', () => {
  const prefix = uniquePrefix();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'crs-pool-'));
  const env: Record<string, string> = { ...testEnv(prefix), DATA_DIR: dataDir };
  const run = (...args: string[]) => crs(args, { env });
  const runJson = async <T = Record<string, unknown>>(...args: string[]): Promise<T> => {
    const r = await run(...args, '--json');
    expect(r.stderr, args.join(' ')).toBe('');
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout) as T;
  };

  let fake: FakeAnthropic;
  let relay: TestRelay;
  /** Upstream API keys tell the fake (and so the test) which account served a request. */
  const upstreamKey = (name: string) => `sk-ant-pool-${name}-`.padEnd(40, '0');
  const createAccount = (name: string, ...settings: string[]) =>
    runJson<{ id: string }>(
      'accounts',
      'create',
      '--platform',
      'claude',
      '--type',
      'api-key',
      '--name',
      name,
      '--api-key',
      upstreamKey(name),
      '--base-url',
      fake.url,
      ...settings,
    ).then((a) => a.id);

  const ask = (key: string) =>
    fetch(`${relay.url}/api/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': key, 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] }),
    }).then(async (res) => ({
      status: res.status,
      headers: res.headers,
      body: (await res.json()) as Record<string, unknown>,
    }));
  const servedBy = () => fake.requests.at(-1)?.apiKey;
  /** Waits until the relay answers `key` with `status` (CLI changes cross pub/sub). */
  const expectStatus = (key: string, status: number) =>
    vi.waitFor(async () => expect((await ask(key)).status).toBe(status), { timeout: 3_000, interval: 50 });

  /** A shared pool account, so a key that falls back to the pool has somewhere to go. */
  let poolAccount = '';

  beforeAll(async () => {
    fake = await startFakeAnthropic();
    relay = await startTestRelay({ prefix });
    poolAccount = await createAccount('pool');
  });
  afterAll(async () => {
    await relay?.close();
    await fake?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('has a flag for every field the admin API accepts, and help for each', async () => {
    const fields = (flags: readonly { field: string }[]) => flags.map((f) => f.field).sort();
    expect(fields(KEY_FLAGS)).toEqual([...KEY_FIELDS].sort());
    expect(fields(ACCOUNT_FLAGS)).toEqual([...ACCOUNT_FIELDS].sort());
    expect(fields(GROUP_FLAGS)).toEqual([...GROUP_FIELDS].sort());

    const [main, keys, accounts, groups] = await Promise.all([
      run('help'),
      run('keys', '--help'),
      run('accounts', '--help'),
      run('groups', '--help'),
    ]);
    for (const line of [
      'crs keys limits ID',
      'crs accounts health ID',
      'crs accounts reset ID',
      'crs groups create',
      'crs groups update ID',
    ])
      expect(main.stdout).toContain(line);
    for (const [r, flags] of [
      [keys, KEY_FLAGS],
      [accounts, ACCOUNT_FLAGS],
      [groups, GROUP_FLAGS],
    ] as const) {
      expect(r.code).toBe(0);
      for (const f of flags) expect(r.stdout).toMatch(new RegExp(`\\n  --${f.flag} \\S+ +\\S`));
    }
  });

  it('every key and account setting round-trips, and is what the admin API shows', async () => {
    const account = await createAccount(
      'settings',
      ...['--priority', '7', '--weight', '5', '--max-concurrency', '3', '--models', 'claude-sonnet-*,claude-haiku-*'],
      ...[
        '--map',
        'claude-sonnet-4-5=claude-sonnet-4-5-20250929',
        '--shared',
        'false',
        '--backup',
        'true',
        '--subscription-expires',
        '2030-01-01T00:00:00Z',
      ],
      ...['--description', 'all settings'],
    );
    const shown = await runJson('accounts', 'show', account);
    expect(shown).toMatchObject({
      priority: 7,
      weight: 5,
      maxConcurrency: 3,
      models: ['claude-sonnet-*', 'claude-haiku-*'],
      modelMapping: { 'claude-sonnet-4-5': 'claude-sonnet-4-5-20250929' },
      shared: false,
      backup: true,
      subscriptionExpiresAt: '2030-01-01T00:00:00.000Z',
      description: 'all settings',
      health: { routable: true, inFlight: 0, blockers: [] },
    });
    expect(shown).toEqual((await relay.admin.request('GET', `/admin/accounts/${account}`)).body);

    const group = await runJson<{ id: string }>(
      'groups',
      'create',
      '--name',
      'settings group',
      '--platform',
      'claude',
      '--accounts',
      account,
    );
    const created = await runJson<KeyJson>(
      'keys',
      'create',
      '--name',
      'all settings',
      ...[
        '--permissions',
        'claude,gemini',
        '--model-allow',
        'claude-*',
        '--model-deny',
        '*opus*',
        '--clients',
        'claude-code',
      ],
      ...[
        '--accounts',
        account,
        '--groups',
        group.id,
        '--pool-fallback',
        'true',
        '--concurrency',
        '4',
        '--concurrency-wait',
        '10',
      ],
      ...['--window-minutes', '60', '--window-requests', '100', '--window-tokens', '50000', '--window-cost', '2.5'],
      ...['--daily-cost', '10', '--weekly-cost', '40.75', '--weekly-family', 'Opus', '--total-cost', '100'],
      ...['--expiry-mode', 'after-first-use', '--activation-days', '30'],
    );
    const expected = {
      permissions: ['claude', 'gemini'],
      modelAllow: ['claude-*'],
      modelDeny: ['*opus*'],
      allowedClients: ['claude-code'],
      accountIds: [account],
      groupIds: [group.id],
      poolFallback: true,
      concurrencyLimit: 4,
      concurrencyWaitSeconds: 10,
      rateWindowMinutes: 60,
      rateLimitRequests: 100,
      rateLimitTokens: 50_000,
      rateLimitCost: 2.5,
      dailyCostLimit: 10,
      weeklyCostLimit: 40.75,
      weeklyCostFamily: 'opus',
      totalCostLimit: 100,
      expiryMode: 'after-first-use',
      activationDays: 30,
    };
    expect(created).toMatchObject(expected);
    const { key: _secret, ...view } = created;
    expect(await runJson('keys', 'show', created.id)).toEqual(view);
    expect(view).toEqual((await relay.admin.request('GET', `/admin/api-keys/${created.id}`)).body);

    const human = await run('keys', 'show', created.id);
    expect(human.stdout).toMatch(/rate window\s+100 requests, 50,000 tokens, \$2\.5 per 60 minutes/);
    expect(human.stdout).toMatch(/weekly cost\s+\$40\.75 \(opus models only\)/);
    expect(human.stdout).toMatch(/expires\s+30 days after first use/);

    // all/any lift an allow list, '' clears the other lists; 0 lifts a limit; never and fixed undo the expiry.
    const cleared = await runJson<KeyJson>(
      'keys',
      'update',
      created.id,
      ...[
        '--permissions',
        'all',
        '--model-allow',
        'any',
        '--model-deny',
        '',
        '--clients',
        'any',
        '--accounts',
        '',
        '--groups',
        '',
      ],
      ...['--window-requests', '0', '--weekly-family', '', '--expiry-mode', 'fixed', '--expires', 'never'],
    );
    expect(cleared).toMatchObject({
      permissions: null,
      modelAllow: null,
      modelDeny: [],
      allowedClients: null,
      accountIds: [],
      groupIds: [],
      rateLimitRequests: 0,
      weeklyCostFamily: '',
      expiryMode: 'fixed',
      expiresAt: null,
    });
    expect(
      await runJson(
        'accounts',
        'update',
        account,
        '--models',
        '',
        '--map',
        '',
        '--subscription-expires',
        'never',
        '--shared',
        'true',
      ),
    ).toMatchObject({
      models: [],
      modelMapping: {},
      subscriptionExpiresAt: null,
      shared: true,
    });
    await runJson('accounts', 'delete', account);
  });

  it("a key's rate window is enforced by the relay, and keys limits shows its use", async () => {
    const { id, key } = await runJson<KeyJson>(
      'keys',
      'create',
      '--name',
      'two per hour',
      '--window-minutes',
      '60',
      '--window-requests',
      '2',
    );
    expect((await ask(key)).status).toBe(200);
    expect((await ask(key)).status).toBe(200);
    const third = await ask(key);
    expect(third.status).toBe(429);
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(3000);
    expect(third.body).toMatchObject({
      error: { message: expect.stringMatching(/Rate limit reached: 2 requests per 60 minutes/) },
    });

    const limits = await runJson<{
      window: { requests: number; tokens: number; resetsAt: string; limits: { requests: number } };
    }>('keys', 'limits', id);
    expect(limits.window).toMatchObject({ requests: 2, limits: { requests: 2 } });
    expect(Date.parse(limits.window.resetsAt)).toBeGreaterThan(Date.now() + 3_500_000);
    // Same body as the admin API (tokens are booked just after each answer: wait for them).
    await vi.waitFor(
      async () =>
        expect(await runJson('keys', 'limits', id)).toEqual(
          (await relay.admin.request('GET', `/admin/api-keys/${id}/limits`)).body,
        ),
      { timeout: 15_000 },
    );

    const human = await run('keys', 'limits', id);
    expect(human.stdout).toMatch(/window requests\s+2\s+2\s+\d{4}-\d\d-\d\d /);
    expect(human.stdout).toMatch(/concurrency\s+0\s+unlimited/);
  });

  it("an account's concurrency cap holds across the relay; accounts health shows what is in flight", async () => {
    const capped = await createAccount('capped', '--max-concurrency', '1', '--shared', 'false');
    const { key } = await runJson<KeyJson>('keys', 'create', '--name', 'dedicated', '--accounts', capped);
    fake.script(upstreamKey('capped'), { kind: 'message', delayMs: 4_000 });
    const slow = ask(key);
    await vi.waitFor(() => expect(servedBy()).toBe(upstreamKey('capped')), { timeout: 3_000, interval: 20 });
    const [health, second] = await Promise.all([runJson<HealthJson>('accounts', 'health', capped), ask(key)]);
    expect(health).toMatchObject({ id: capped, model: null, routable: true, inFlight: 1 });
    expect(second.status).toBe(503); // its only account is full, and the key may not use the pool
    expect((await slow).status).toBe(200);
    expect((await ask(key)).status).toBe(200); // the slot is free again
  });

  it("a key bound to a group is served by the group's accounts; groups can be changed and deleted", async () => {
    const member = await createAccount('member', '--shared', 'false');
    const group = await runJson<{ id: string; accountIds: string[]; strategy: string | null }>(
      'groups',
      'create',
      '--name',
      'team',
      '--platform',
      'claude',
      '--strategy',
      'round-robin',
      '--accounts',
      member,
    );
    expect(group).toMatchObject({ name: 'team', platform: 'claude', strategy: 'round-robin', accountIds: [member] });
    const { id, key } = await runJson<KeyJson>('keys', 'create', '--name', 'grouped', '--groups', group.id);
    for (let i = 0; i < 3; i++) {
      expect((await ask(key)).status).toBe(200);
      expect(servedBy()).toBe(upstreamKey('member'));
    }
    const [list, show] = await Promise.all([run('groups', 'list'), run('groups', 'show', group.id)]);
    expect(list.stdout).toMatch(new RegExp(`${group.id}\\s+team\\s+claude\\s+round-robin\\s+1`));
    expect(show.stdout).toContain(`${member} (member)`);

    // An empty group and no pool fallback: nowhere to go. With the fallback: the shared pool.
    expect(await runJson('groups', 'update', group.id, '--accounts', '', '--strategy', 'default')).toMatchObject({
      accountIds: [],
      strategy: null,
    });
    await expectStatus(key, 503);
    await runJson('keys', 'update', id, '--pool-fallback', 'true');
    await expectStatus(key, 200);
    expect(servedBy()).toBe(upstreamKey('pool'));

    expect(await runJson('groups', 'delete', group.id)).toEqual({ deleted: group.id });
    expect(await runJson('keys', 'show', id)).toMatchObject({ groupIds: [] });
    expect((await run('groups', 'show', group.id)).code).toBe(1);
  });

  it('accounts health shows an account the upstream refused (401) until accounts reset', async () => {
    const refused = await createAccount('refused', '--shared', 'false');
    const { key } = await runJson<KeyJson>('keys', 'create', '--name', 'refused only', '--accounts', refused);
    fake.script(upstreamKey('refused'), { kind: 'error', status: 401, message: 'invalid x-api-key' });
    expect((await ask(key)).status).not.toBe(200);

    const health = await runJson<HealthJson>('accounts', 'health', refused);
    expect(health).toMatchObject({
      id: refused,
      routable: false,
      inFlight: 0,
      blockers: [{ reason: 'unauthorized', scope: '*', until: null, detail: expect.stringContaining('HTTP 401') }],
    });
    expect(health).toEqual((await relay.admin.request('GET', `/admin/accounts/${refused}/health`)).body);
    const [human, list] = await Promise.all([run('accounts', 'health', refused), run('accounts', 'list')]);
    expect(human.stdout).toMatch(/: not routable\./);
    expect(human.stdout).toMatch(/unauthorized\s+\* \(every model\)\s+until reset/);
    expect(list.stdout).toMatch(new RegExp(`${refused} .* no \\(unauthorized\\)`));
    expect((await ask(key)).status).toBe(503);

    const reset = await runJson<{ health: HealthJson }>('accounts', 'reset', refused);
    expect(reset.health).toMatchObject({ routable: true, blockers: [] });
    await expectStatus(key, 200);
    expect(servedBy()).toBe(upstreamKey('refused'));
  });

  it('deleting an account removes it from groups and key bindings', async () => {
    const [doomed, survivor] = await Promise.all([
      createAccount('doomed', '--shared', 'false'),
      createAccount('survivor', '--shared', 'false'),
    ]);
    const group = await runJson<{ id: string }>(
      'groups',
      'create',
      '--name',
      'pair',
      '--platform',
      'claude',
      '--accounts',
      `${doomed},${survivor}`,
    );
    const { id } = await runJson<KeyJson>(
      'keys',
      'create',
      '--name',
      'bound',
      '--accounts',
      `${doomed},${survivor}`,
      '--groups',
      group.id,
    );
    expect(await runJson('accounts', 'delete', doomed)).toEqual({ deleted: doomed });
    const [key, shownGroup] = await Promise.all([
      runJson<KeyJson>('keys', 'show', id),
      runJson<{ accountIds: string[] }>('groups', 'show', group.id),
    ]);
    expect(key.accountIds).toEqual([survivor]);
    expect(shownGroup.accountIds).toEqual([survivor]);
  });

  it('refuses invalid values with a message naming the flag, a non-zero exit, and no change', async () => {
    const { id } = await runJson<KeyJson>(
      'keys',
      'create',
      '--name',
      'unchanged',
      '--window-minutes',
      '5',
      '--window-requests',
      '9',
    );
    const cases: [string[], RegExp][] = [
      [['keys', 'update', id, '--window-requests', 'lots'], /--window-requests: expected an integer from 0 to/],
      [['keys', 'update', id, '--window-requests=-1'], /--window-requests: expected an integer from 0 to/],
      [
        ['keys', 'update', id, '--window-requests', '-1'],
        /--window-requests: a value starting with "-" must be written --window-requests=VALUE/,
      ],
      [['keys', 'update', id, '--daily-cost', 'ten'], /--daily-cost: expected a number from 0 to/],
      [['keys', 'update', id, '--concurrency-wait', '601'], /--concurrency-wait: expected an integer from 0 to 600/],
      [['keys', 'update', id, '--permissions', 'claude,nope'], /--permissions: "nope" is not one of claude/],
      [['keys', 'update', id, '--permissions', ''], /--permissions: an empty list would allow no platform; send null/],
      [['keys', 'update', id, '--clients', 'curl'], /--clients: "curl" is not one of/],
      [['keys', 'update', id, '--pool-fallback', 'maybe'], /--pool-fallback: expected true or false/],
      [
        ['keys', 'update', id, '--expiry-mode', 'after-first-use'],
        /--activation-days: required with --expiry-mode after-first-use/,
      ],
      [['keys', 'update', id, '--accounts', 'a_0000000000000000'], /--accounts: no such account: a_0000000000000000/],
      [['keys', 'update', id, '--groups', 'g_0000000000000000'], /--groups: no such group: g_0000000000000000/],
      [['accounts', 'update', poolAccount, '--weight', '0'], /--weight: expected an integer from 1 to 1000/],
      [
        ['accounts', 'update', poolAccount, '--max-concurrency', 'x'],
        /--max-concurrency: expected an integer from 0 to/,
      ],
      [['accounts', 'update', poolAccount, '--map', 'claude-sonnet-4-5'], /--map: expected requested=upstream pairs/],
      [
        ['accounts', 'update', poolAccount, '--subscription-expires', 'soon'],
        /--subscription-expires: expected an ISO date/,
      ],
      [['accounts', 'update', poolAccount, '--shared', 'yes'], /--shared: expected true or false/],
      [['groups', 'create', '--name', 'g'], /--platform: required/],
      [
        ['groups', 'create', '--name', 'g', '--platform', 'claude', '--strategy', 'fastestest'],
        /--strategy: expected one of least-recently-used/,
      ],
      [
        ['groups', 'create', '--name', 'g', '--platform', 'gemini', '--accounts', poolAccount],
        /--accounts: not gemini accounts/,
      ],
    ];
    const runs = await Promise.all(cases.map(([args]) => run(...args)));
    for (const [i, [args, message]] of cases.entries()) {
      const r = runs[i] as CrsRun;
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    const missing = await Promise.all([
      run('keys', 'limits'),
      run('accounts', 'health', 'a_0000000000000000'),
      run('groups', 'show', 'g_0000000000000000'),
    ]);
    expect(missing.map((r) => r.code)).toEqual([2, 1, 1]);
    expect(missing[1]?.stderr).toMatch(/No account with id "a_0000000000000000"/);
    expect(missing[2]?.stderr).toMatch(/No group with id "g_0000000000000000"/);

    expect(await runJson('keys', 'show', id)).toMatchObject({
      rateLimitRequests: 9,
      permissions: null,
      accountIds: [],
      groupIds: [],
      poolFallback: false,
    });
    expect(await runJson('accounts', 'show', poolAccount)).toMatchObject({
      weight: 1,
      maxConcurrency: 0,
      modelMapping: {},
      shared: true,
    });
    expect(
      (await runJson<{ items: unknown[] }>('groups', 'list')).items.filter((g) => (g as { name: string }).name === 'g'),
    ).toEqual([]);
  });
});
