import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTrafficReader } from '../../src/accounts/traffic.js';
import type { AccountId } from '../../src/ids.js';
import { createProbeRuntime, ProbeBusy, type ProbeResult, type ProbeRuntime } from '../../src/probes/index.js';
import type { Store } from '../../src/store/index.js';
import { manualClock } from '../../src/util/clock.js';
import { silentLogger } from '../../src/util/log.js';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic.js';
import { crs } from '../support/crs.js';
import { addAccount, ask, health, iso, patch, until, type PoolAccount } from '../support/pool.js';
import { startTestRelay, testEnv, uniquePrefix, type AdminClient, type TestRelay } from '../support/relay.js';

/**
 * Active and passive account health against a fake Anthropic upstream: probes take an account out
 * after PROBE_FAILURES failures in a row and bring it back after PROBE_RECOVERIES successes, never
 * touching what an admin set; a 429 cools, a 401 marks unauthorized; one probe of an account at a
 * time across the deployment; real traffic failing too often takes an account out too. Ticks run
 * on a prober built as the primary builds it (createProbeRuntime), on the relays' clock.
 */

const MIN = 60_000;
const ENV = {
  PROBE_INTERVAL: '10m',
  PROBE_IDLE: '10m',
  PROBE_TIMEOUT: '5s',
  PROBE_FAILURES: '3',
  PROBE_RECOVERIES: '2',
  // Real traffic below fails on one account: no breaker, and server-error cooldowns the clock passes.
  BREAKER_VOLUME: '1000',
  COOLDOWN_SERVER_ERROR: '100ms',
};

interface ProbesBody {
  items: ProbeResult[];
  totals: { probes: number; inputTokens: number; outputTokens: number; tokens: number; cost: number; costPico: string };
  state: {
    consecutiveFailures: number;
    consecutiveSuccesses: number;
    autoDisabled: { at: string; by: string; reason: string } | null;
    lastProbeAt: string | null;
    nextProbeAt: string | null;
  };
}

describe('account probes', () => {
  // The CLI below probes on the real clock, and the history keeps 7 days: start the relays' clock now.
  const clock = manualClock(Date.now());
  const prefix = uniquePrefix();
  let fake: FakeAnthropic;
  let one: TestRelay;
  let two: TestRelay;
  let runtime: ProbeRuntime;
  let admin: AdminClient;
  let store: Store;

  const probesOf = async (id: string) => {
    const res = await admin.request<ProbesBody>('GET', `/admin/accounts/${id}/probes`);
    expect(res.status).toBe(200);
    return res.body;
  };
  const probeNow = (id: string, via = admin) => via.request<ProbeResult>('POST', `/admin/accounts/${id}/probe`);
  const sentBy = (a: PoolAccount) => fake.requests.filter((r) => r.apiKey === a.apiKey).length;
  /** One tick after the interval (and its ±10% jitter) has passed since the last one. */
  const nextTick = async () => {
    clock.advance(12 * MIN);
    await runtime.prober.tick();
  };
  const events = async (type: string) => {
    const raw = await store.redis.xrange(store.keys.events(), '-', '+');
    return raw
      .map(([, fields]) => JSON.parse(fields[1] ?? '{}') as Record<string, unknown>)
      .filter((e) => e.type === type);
  };
  const blockers = async (id: string, model?: string) => (await health(admin, id, model)).blockers;

  beforeAll(async () => {
    fake = await startFakeAnthropic();
    one = await startTestRelay({ prefix, clock, env: ENV });
    two = await startTestRelay({ prefix, clock, env: ENV });
    admin = one.admin;
    store = one.instance.store;
    runtime = await createProbeRuntime({ config: one.config, store, log: silentLogger, clock });
  });
  afterAll(async () => {
    await runtime?.close();
    await one?.close();
    await two?.close();
    await fake?.close();
  });
  // Ticks look at every account: each test sees only its own.
  beforeEach(async () => {
    await admin.deleteAllAccounts();
  });

  it('takes an account out after 3 failed probes in a row, the scheduler skips it, 2 successes bring it back', async () => {
    const sick = await addAccount(admin, fake, 'sick');
    const { key } = await admin.createKey();
    fake.script(sick.apiKey, ...Array(3).fill({ kind: 'error', status: 503 }));

    await runtime.prober.tick();
    await nextTick();
    expect((await probesOf(sick.id)).state).toMatchObject({ consecutiveFailures: 2, autoDisabled: null });
    await nextTick();
    expect(sentBy(sick)).toBe(3);

    const reason = '3 failed probes in a row (HTTP 503 (server_error))';
    const report = await probesOf(sick.id);
    expect(report.state).toMatchObject({ consecutiveFailures: 3, consecutiveSuccesses: 0 });
    expect(report.state.autoDisabled).toMatchObject({ by: 'probe', reason });
    expect(report.items.map((p) => [p.outcome, p.status, p.why])).toEqual([
      ['transient', 503, 'idle'],
      ['transient', 503, 'idle'],
      ['transient', 503, 'idle'],
    ]);
    expect(report.items[0]?.change).toBe('auto_disabled');
    const view = await admin.request<{ active: boolean; health: { routable: boolean; blockers: unknown[] } }>(
      'GET',
      `/admin/accounts/${sick.id}`,
    );
    expect(view.body.active).toBe(true);
    expect(view.body.health.routable).toBe(false);
    expect(view.body.health.blockers).toEqual([{ reason: 'auto_disabled', scope: '*', until: null, detail: reason }]);

    // The scheduler skips it: no request reaches it, and the client hears why.
    const refused = await until('the scheduler to skip the account', async () => {
      const a = await ask(one.url, key);
      return a.status === 503 && a;
    });
    expect(refused.message).toContain('taken out automatically');
    expect(sentBy(sick)).toBe(3);
    const disabled = await until('the event', async () => (await events('account.auto_disabled'))[0]);
    expect(disabled).toMatchObject({ accountId: sick.id, by: 'probe', reason, node: one.config.nodeId });
    expect((await events('account.probe_failed')).filter((e) => e.accountId === sick.id)).toHaveLength(3);

    // Suspect now: probed at its interval though it was used; the fake answers again.
    await nextTick();
    expect((await probesOf(sick.id)).state).toMatchObject({ consecutiveSuccesses: 1, autoDisabled: { by: 'probe' } });
    await nextTick();
    const back = await probesOf(sick.id);
    expect(back.state).toMatchObject({ consecutiveFailures: 0, consecutiveSuccesses: 2, autoDisabled: null });
    expect(back.items[0]).toMatchObject({ outcome: 'ok', why: 'suspect', change: 'auto_enabled' });
    await until('the account to be routable again', async () => (await blockers(sick.id)).length === 0);
    expect((await ask(one.url, key)).status).toBe(200);
    expect(await until('the event', async () => (await events('account.auto_enabled'))[0])).toMatchObject({
      accountId: sick.id,
      by: 'probe',
    });
  });

  it("an admin's reset takes the automatic mark away and starts the count of failures afresh", async () => {
    const flaky = await addAccount(admin, fake, 'flaky');
    fake.script(flaky.apiKey, ...Array(4).fill({ kind: 'error', status: 503 }));
    await runtime.prober.tick();
    await nextTick();
    await nextTick();
    expect((await probesOf(flaky.id)).state.autoDisabled).toMatchObject({ by: 'probe' });
    expect((await admin.request('POST', `/admin/accounts/${flaky.id}/reset`)).status).toBe(200);
    expect((await probesOf(flaky.id)).state).toMatchObject({ consecutiveFailures: 0, autoDisabled: null });
    // One more failure is one, not the fourth in a row: the account stays in.
    await nextTick();
    expect((await probesOf(flaky.id)).state).toMatchObject({ consecutiveFailures: 1, autoDisabled: null });
    expect(await blockers(flaky.id)).toEqual([]);
  });

  it('never probes or re-enables an account an admin disabled; probes never touch its active setting', async () => {
    const off = await addAccount(admin, fake, 'off');
    await one.instance.deps.health.autoDisable(off.id as AccountId, {
      by: 'probe',
      reason: '3 failed probes in a row',
    });
    await patch(admin, `/admin/accounts/${off.id}`, { active: false });

    await runtime.prober.tick();
    await nextTick();
    await nextTick();
    expect(sentBy(off)).toBe(0);
    expect((await probesOf(off.id)).state).toMatchObject({ autoDisabled: { by: 'probe' }, nextProbeAt: null });

    // An admin's explicit probe runs, and its successes clear only the automatic mark.
    expect((await probeNow(off.id)).body).toMatchObject({ outcome: 'ok' });
    expect((await probeNow(off.id)).body).toMatchObject({ outcome: 'ok', change: 'auto_enabled' });
    const view = await admin.request<{
      active: boolean;
      health: { routable: boolean; blockers: { reason: string }[] };
    }>('GET', `/admin/accounts/${off.id}`);
    expect(view.body.active).toBe(false);
    expect(view.body.health.routable).toBe(false);
    expect(view.body.health.blockers.map((b) => b.reason)).toEqual(['inactive']);
  });

  it('a 429 cools the account as long as the upstream says, and is neither a failure nor a success', async () => {
    const busy = await addAccount(admin, fake, 'busy');
    const now = clock.now();
    fake.script(
      busy.apiKey,
      { kind: 'error', status: 503 },
      { kind: 'error', status: 429, headers: { 'retry-after': '30' } },
      {
        kind: 'error',
        status: 429,
        headers: {
          'anthropic-ratelimit-requests-remaining': '0',
          'anthropic-ratelimit-requests-reset': iso(now + 90_000),
        },
      },
    );
    expect((await probeNow(busy.id)).body).toMatchObject({ outcome: 'transient', status: 503 });
    expect((await probeNow(busy.id)).body).toMatchObject({ outcome: 'rate_limited', status: 429 });
    expect(await blockers(busy.id, 'claude-haiku-4-5')).toEqual([
      { reason: 'rate_limited', scope: 'haiku', until: iso(now + 30_000), detail: 'HTTP 429' },
    ]);
    expect((await probesOf(busy.id)).state).toMatchObject({ consecutiveFailures: 1, consecutiveSuccesses: 0 });

    expect((await probeNow(busy.id)).body).toMatchObject({ outcome: 'rate_limited' });
    expect(await blockers(busy.id, 'claude-haiku-4-5')).toMatchObject([{ until: iso(now + 90_000) }]);
    expect(await blockers(busy.id, 'claude-sonnet-4-5')).toEqual([]);
    expect((await probesOf(busy.id)).state).toMatchObject({ consecutiveFailures: 1, consecutiveSuccesses: 0 });

    expect((await probeNow(busy.id)).body).toMatchObject({ outcome: 'ok' });
    expect((await probesOf(busy.id)).state).toMatchObject({ consecutiveFailures: 0, consecutiveSuccesses: 1 });
  });

  it('a 401 marks the account unauthorized at once; ticks leave it to the admin', async () => {
    const revoked = await addAccount(admin, fake, 'revoked');
    fake.script(revoked.apiKey, { kind: 'error', status: 401, message: `invalid x-api-key ${revoked.apiKey}` });
    const res = await probeNow(revoked.id);
    expect(res.body).toMatchObject({ outcome: 'unauthorized', status: 401, detail: 'HTTP 401 (unauthorized)' });
    expect(JSON.stringify(res.body)).not.toContain(revoked.apiKey);
    const b = await blockers(revoked.id);
    expect(b.map((x) => x.reason)).toEqual(['unauthorized']);
    expect(JSON.stringify(b)).not.toContain(revoked.apiKey);
    const event = await until('the event', async () =>
      (await events('account.unauthorized')).find((e) => e.accountId === revoked.id),
    );
    expect(event).toMatchObject({ by: 'probe', status: 401 });

    await nextTick();
    await nextTick();
    expect(sentBy(revoked)).toBe(1);
  });

  it('one probe of an account at a time across the deployment', async () => {
    const shared = await addAccount(admin, fake, 'shared');
    fake.script(shared.apiKey, { kind: 'message', delayMs: 500 });
    const [a, b] = await Promise.all([probeNow(shared.id, one.admin), probeNow(shared.id, two.admin)]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    expect([a, b].find((r) => r.status === 409)?.body).toMatchObject({ error: { code: 'admin_conflict' } });
    expect(sentBy(shared)).toBe(1);

    // Two probers on their own Redis connections, as two primaries would be.
    const other = await createProbeRuntime({ config: two.config, store: two.instance.store, log: silentLogger, clock });
    try {
      fake.script(shared.apiKey, { kind: 'message', delayMs: 500 });
      const account = await one.instance.deps.accounts.get(shared.id as AccountId);
      if (!account) throw new Error('account missing');
      const settled = await Promise.allSettled([
        runtime.prober.probeNow(account, 'manual'),
        other.prober.probeNow(account, 'manual'),
      ]);
      expect(settled.map((s) => s.status).sort()).toEqual(['fulfilled', 'rejected']);
      expect(settled.find((s) => s.status === 'rejected')).toMatchObject({ reason: expect.any(ProbeBusy) });
      expect(sentBy(shared)).toBe(2);
    } finally {
      await other.close();
    }
  });

  it('ticks never probe an account that opted out; its interval is its own', async () => {
    const quiet = await addAccount(admin, fake, 'quiet', { probe: false });
    const own = await addAccount(admin, fake, 'own', { probeIntervalMs: 30 * MIN });
    await runtime.prober.tick();
    await nextTick();
    expect(sentBy(quiet)).toBe(0);
    expect(sentBy(own)).toBe(1);
    expect(await probesOf(quiet.id)).toMatchObject({ items: [], state: { nextProbeAt: null } });
    await nextTick();
    await nextTick();
    expect(sentBy(own)).toBe(2);

    const bad = await admin.request('PATCH', `/admin/accounts/${quiet.id}`, { probeIntervalMs: 10 });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: { code: 'admin_invalid' } });
    expect(await patch(admin, `/admin/accounts/${own.id}`, { probeIntervalMs: null })).toMatchObject({
      probeIntervalMs: null,
      probe: true,
    });
  });

  it('probes idle accounts, not those with recent real traffic', async () => {
    const used = await addAccount(admin, fake, 'used');
    const idle = await addAccount(admin, fake, 'idle');
    const { key } = await admin.createKey({ accountIds: [used.id] });
    expect((await ask(one.url, key)).status).toBe(200);
    await until('the use to be booked', async () => {
      const a = await admin.request<{ lastUsedAt: string | null }>('GET', `/admin/accounts/${used.id}`);
      return a.body.lastUsedAt !== null;
    });
    await runtime.prober.tick();
    expect([sentBy(used), sentBy(idle)]).toEqual([1, 1]); // the real request, and idle's probe
    expect((await probesOf(idle.id)).items[0]).toMatchObject({ why: 'idle' });

    await nextTick(); // 12 minutes without traffic: idle now
    expect([sentBy(used), sentBy(idle)]).toEqual([2, 2]);
    expect((await probesOf(used.id)).items[0]).toMatchObject({ why: 'idle', outcome: 'ok' });
  });

  it('keeps a history with what each probe cost, shaped like Claude Code; the CLI reads and probes too', async () => {
    const acct = await addAccount(admin, fake, 'history');
    const first = await probeNow(acct.id);
    expect(first.status).toBe(200);
    await probeNow(acct.id);

    const sent = fake.requests.filter((r) => r.apiKey === acct.apiKey);
    expect(sent[0]?.path).toBe('/v1/messages?beta=true');
    expect(sent[0]?.body).toMatchObject({ model: 'claude-haiku-4-5', max_tokens: 1 });
    expect((sent[0]?.body as Record<string, unknown>).stream).toBeUndefined();
    expect(sent[0]?.headers).toMatchObject({ 'x-app': 'cli', 'x-api-key': acct.apiKey });
    expect(sent[0]?.headers['user-agent']).toMatch(/^claude-cli\//);

    // Haiku 4.5 at $1/$5 per million: 25 in + 12 out (the fake's usage) = 85,000,000 p$.
    const report = await probesOf(acct.id);
    expect(report.items).toHaveLength(2);
    expect(report.items[0]).toMatchObject({
      accountId: acct.id,
      at: iso(clock.now()),
      status: 200,
      outcome: 'ok',
      why: 'manual',
      node: one.config.nodeId,
      model: 'claude-haiku-4-5',
      tokens: 37,
      costPico: '85000000',
      cost: 0.000085,
      detail: 'HTTP 200',
    });
    expect(report.items[0]?.latencyMs).toBeGreaterThanOrEqual(0);
    expect(report.totals).toMatchObject({
      probes: 2,
      inputTokens: 50,
      outputTokens: 24,
      tokens: 74,
      costPico: '170000000',
    });
    expect(report.totals.cost).toBeCloseTo(0.00017, 12);
    expect(report.state).toMatchObject({ consecutiveSuccesses: 2, autoDisabled: null, lastProbeAt: iso(clock.now()) });
    const next = Date.parse(report.state.nextProbeAt ?? '');
    expect(next).toBeGreaterThanOrEqual(clock.now() + 9 * MIN);
    expect(next).toBeLessThanOrEqual(clock.now() + 11 * MIN);
    // Booked to the probes' own totals only: not the account's usage, not any key's.
    expect((await admin.accountUsage(acct.id)).total).toMatchObject({ requests: 0 });

    const env = testEnv(prefix);
    const probed = await crs(['accounts', 'probe', acct.id, '--json'], { env });
    expect(probed.stderr).toBe('');
    expect(JSON.parse(probed.stdout)).toMatchObject({ outcome: 'ok', why: 'manual', tokens: 37 });
    const listed = await crs(['accounts', 'probes', acct.id, '--json', '--limit', '2'], { env });
    expect(JSON.parse(listed.stdout)).toMatchObject({ totals: { probes: 3 }, items: [{ tokens: 37 }, {}] });
    const text = await crs(['accounts', 'probes', acct.id], { env });
    expect(text.stdout).toContain('successes in a row');
    expect(text.stdout).toContain('claude-haiku-4-5');
  });

  it('takes out an account whose real traffic fails half the time, then probes it back', async () => {
    const flaky = await addAccount(admin, fake, 'flaky');
    const { key } = await admin.createKey();
    fake.script(flaky.apiKey, ...Array(6).fill({ kind: 'error', status: 503 }));
    for (let i = 0; i < 12; i++) {
      await ask(one.url, key);
      clock.advance(200); // past the server-error cooldown
    }
    const reader = createTrafficReader({ store });
    const traffic = await until(
      'the workers to write their traffic',
      async () => {
        const t = (await reader.trafficOf([flaky.id as AccountId], 5 * MIN, clock.now())).get(flaky.id as AccountId);
        return t && t.requests >= 12 && t;
      },
      10_000,
    );
    expect(traffic).toMatchObject({ requests: 12, errors: 6, errorRatio: 0.5 });
    expect(traffic.lastSeenAt).toBeLessThanOrEqual(clock.now());

    await runtime.prober.tick();
    const reason = '6 of 12 requests failed in 5 min (50% errors)';
    const report = await probesOf(flaky.id);
    expect(report.state.autoDisabled).toMatchObject({ by: 'error_ratio', reason });
    // Probed at once (suspect): its first success does not bring it back yet.
    expect(report.items[0]).toMatchObject({ why: 'suspect', outcome: 'ok' });
    expect(report.items[0]?.change).toBeUndefined();
    expect(
      await until('the event', async () =>
        (await events('account.auto_disabled')).find((e) => e.accountId === flaky.id),
      ),
    ).toMatchObject({ by: 'error_ratio', reason });

    await nextTick();
    expect((await probesOf(flaky.id)).state).toMatchObject({ autoDisabled: null, consecutiveSuccesses: 2 });
    await until('the account to be routable again', async () => (await blockers(flaky.id)).length === 0);
  });
});
