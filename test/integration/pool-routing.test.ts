import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic, type Step } from '../fakes/anthropic.js';
import {
  addAccount,
  ask,
  health,
  OPUS,
  patch,
  resetAccount,
  servedKeys,
  SONNET,
  tally,
  until,
} from '../support/pool.js';
import { startTestRelay, uniquePrefix, type TestRelay } from '../support/relay.js';

/**
 * Which accounts a request may go to, and in what order: priority, backup accounts, per-account
 * concurrency caps, model allow lists and mappings, dedicated bindings, groups with their own
 * strategy, expired subscriptions. Each test is a deployment of its own (a fresh key prefix).
 */

describe('candidates and their order', () => {
  let fake: FakeAnthropic;
  const relays: TestRelay[] = [];

  beforeAll(async () => {
    fake = await startFakeAnthropic();
  });
  afterAll(async () => {
    for (const r of relays) await r.close();
    await fake?.close();
  });
  beforeEach(async () => {
    for (const r of relays.splice(0)) await r.close();
    fake.reset();
  });

  async function deployment(n = 1): Promise<TestRelay[]> {
    const prefix = uniquePrefix();
    const out: TestRelay[] = [];
    for (let i = 0; i < n; i++) out.push(await startTestRelay({ prefix }));
    relays.push(...out);
    return out;
  }
  const times = (n: number, step: Step) => Array.from({ length: n }, () => step);
  const askN = async (url: string, key: string, n: number, model = SONNET) => {
    for (let i = 0; i < n; i++) {
      const res = await ask(url, key, { model });
      expect(res.status, res.text).toBe(200);
    }
  };

  it('priority: the lower number serves; the next only while the better one is unavailable', async () => {
    const [r] = (await deployment()) as [TestRelay];
    const worse = await addAccount(r.admin, fake, 'worse', { priority: 50 });
    const better = await addAccount(r.admin, fake, 'better', { priority: 10 });
    const { key } = await r.admin.createKey();
    await askN(r.url, key, 20);
    expect(tally(fake, [better, worse])).toEqual({ better: 20, worse: 0 });

    await patch(r.admin, `/admin/accounts/${better.id}`, { schedulable: false });
    await askN(r.url, key, 5);
    await patch(r.admin, `/admin/accounts/${better.id}`, { schedulable: true });
    await askN(r.url, key, 5);
    expect(servedKeys(fake, 20)).toEqual([...Array(5).fill(worse.apiKey), ...Array(5).fill(better.apiKey)]);
  });

  it('backup accounts serve only when nothing else is routable', async () => {
    const [r] = (await deployment()) as [TestRelay];
    const backup = await addAccount(r.admin, fake, 'backup', { priority: 1, backup: true });
    const main = await addAccount(r.admin, fake, 'main', { priority: 90 });
    const { key } = await r.admin.createKey();
    await askN(r.url, key, 10);
    expect(tally(fake, [backup, main])).toEqual({ backup: 0, main: 10 });

    // The main account fails: the backup takes over (within the request, then while it cools).
    fake.script(main.apiKey, { kind: 'error', status: 500 });
    await askN(r.url, key, 3);
    expect(servedKeys(fake, 10)).toEqual([main.apiKey, backup.apiKey, backup.apiKey, backup.apiKey]);
    await resetAccount(r.admin, main.id);
    await askN(r.url, key, 3);
    expect(servedKeys(fake, 14)).toEqual(Array(3).fill(main.apiKey));
  });

  it('maxConcurrency caps an account across two relay instances; the rest go to the next account', async () => {
    const [one, two] = (await deployment(2)) as [TestRelay, TestRelay];
    const capped = await addAccount(one.admin, fake, 'capped', { priority: 1, maxConcurrency: 2 });
    const spare = await addAccount(one.admin, fake, 'spare', { priority: 50 });
    const { key } = await one.admin.createKey();
    fake.script(capped.apiKey, ...times(8, { kind: 'message', delayMs: 800 }));
    fake.script(spare.apiKey, ...times(8, { kind: 'message', delayMs: 800 }));
    const running = Promise.all(
      Array.from({ length: 8 }, async (_, i) => (await ask((i % 2 ? two : one).url, key)).status),
    );
    await until('all eight to reach the upstream', () => fake.requests.length === 8);
    // What the admin sees while they run: the capped account is full (its leases are exact); the
    // uncapped one's count adds the other instance's load as published (every 100 ms).
    expect((await health(two.admin, capped.id, SONNET)).inFlight).toBe(2);
    await until(
      'the spare account to show 6 in flight',
      async () => (await health(one.admin, spare.id, SONNET)).inFlight === 6,
    );
    expect(await running).toEqual(Array(8).fill(200));
    expect(tally(fake, [capped, spare])).toEqual({ capped: 2, spare: 6 });
    // Slots are given back: once the instances have shared their loads (published every 100 ms,
    // read at most every 250 ms), the capped account serves again.
    await new Promise((r) => setTimeout(r, 600));
    fake.reset();
    await askN(two.url, key, 2);
    expect(servedKeys(fake)).toEqual([capped.apiKey, capped.apiKey]);
  });

  it('model allow lists decide who serves; a mapped model reaches the upstream under its mapped name', async () => {
    const [r] = (await deployment()) as [TestRelay];
    const opus = await addAccount(r.admin, fake, 'opus', { models: ['claude-opus-*'] });
    const sonnet = await addAccount(r.admin, fake, 'sonnet', { models: ['claude-sonnet-*'] });
    const mapped = await addAccount(r.admin, fake, 'mapped', {
      models: ['claude-haiku-4-5-20251001'],
      modelMapping: { 'claude-haiku-4-5': 'claude-haiku-4-5-20251001' },
    });
    const all = [opus, sonnet, mapped];
    const { key } = await r.admin.createKey();
    await askN(r.url, key, 6, OPUS);
    await askN(r.url, key, 6, SONNET);
    expect(tally(fake, all)).toEqual({ opus: 6, sonnet: 6, mapped: 0 });

    const res = await ask(r.url, key, { model: 'claude-haiku-4-5' });
    expect(res.status).toBe(200);
    const last = fake.requests[fake.requests.length - 1];
    expect(last?.apiKey).toBe(mapped.apiKey);
    expect((last?.body as { model?: string }).model).toBe('claude-haiku-4-5-20251001');
    // Accounts without a mapping get the model as asked.
    expect(fake.requests.slice(0, 12).map((q) => (q.body as { model?: string }).model)).toEqual([
      ...Array(6).fill(OPUS),
      ...Array(6).fill(SONNET),
    ]);

    const none = await ask(r.url, key, { model: 'claude-fable-5-2' });
    expect(none.status).toBe(503);
    expect(none.message).toContain('claude-fable-5-2');
    expect(fake.requests).toHaveLength(13);
  });

  it('dedicated accounts come first and do not fall back to the pool unless the key says so', async () => {
    const [r] = (await deployment()) as [TestRelay];
    const dedicated = await addAccount(r.admin, fake, 'dedicated', { priority: 90, shared: false });
    const pool = [
      await addAccount(r.admin, fake, 'pool1', { priority: 1 }),
      await addAccount(r.admin, fake, 'pool2', { priority: 1 }),
    ];
    const all = [dedicated, ...pool];
    const bound = await r.admin.createKey({ accountIds: [dedicated.id] });
    const fallback = await r.admin.createKey({ accountIds: [dedicated.id], poolFallback: true });
    const plain = await r.admin.createKey();

    await askN(r.url, bound.key, 4);
    await askN(r.url, fallback.key, 4);
    expect(tally(fake, all)).toEqual({ dedicated: 8, pool1: 0, pool2: 0 });
    // An account outside the shared pool serves only its bindings.
    await askN(r.url, plain.key, 4);
    expect(tally(fake, all, 8)).toEqual({ dedicated: 0, pool1: 2, pool2: 2 });

    // The dedicated account is rate limited: the bound key gets the upstream's 429, the pool is not tried...
    fake.script(dedicated.apiKey, { kind: 'error', status: 429, headers: { 'retry-after': '300' } });
    const limited = await ask(r.url, bound.key);
    expect(limited.status).toBe(429);
    expect(servedKeys(fake, 12)).toEqual([dedicated.apiKey]);
    const refused = await ask(r.url, bound.key);
    expect(refused.status).toBe(429);
    expect(refused.message).toContain(
      'None of the 1 claude or bedrock account for claude-sonnet-4-5 can take this request now: 1 rate limited.',
    );
    expect(fake.requests).toHaveLength(13);
    // ...while the key that may fall back is served by the pool.
    await askN(r.url, fallback.key, 2);
    expect(tally(fake, all, 13)).toEqual({ dedicated: 0, pool1: 1, pool2: 1 });
  });

  it("groups: the key is served by its group, with the group's own strategy; group CRUD takes effect", async () => {
    const [r] = (await deployment()) as [TestRelay];
    const light = await addAccount(r.admin, fake, 'light', { shared: false, weight: 1 });
    const heavy = await addAccount(r.admin, fake, 'heavy', { shared: false, weight: 3 });
    const outsider = await addAccount(r.admin, fake, 'outsider');
    const all = [light, heavy, outsider];
    const created = await r.admin.request<{ id: string; strategy: string; accountIds: string[] }>(
      'POST',
      '/admin/groups',
      {
        name: 'weighted',
        platform: 'claude',
        strategy: 'weighted-round-robin',
        accountIds: [light.id, heavy.id],
      },
    );
    expect(created.status).toBe(201);
    const group = created.body;
    expect((await r.admin.request('GET', `/admin/groups/${group.id}`)).body).toMatchObject({
      name: 'weighted',
      strategy: 'weighted-round-robin',
      accountIds: [light.id, heavy.id],
    });
    const { key, id: keyId } = await r.admin.createKey({ groupIds: [group.id] });

    // The deployment's default (least recently used) would split 20/20.
    await askN(r.url, key, 40);
    expect(tally(fake, all)).toEqual({ light: 10, heavy: 30, outsider: 0 });

    await patch(r.admin, `/admin/groups/${group.id}`, { accountIds: [light.id] });
    await askN(r.url, key, 5);
    expect(tally(fake, all, 40)).toEqual({ light: 5, heavy: 0, outsider: 0 });

    // Deleting the group unbinds the key: it is a plain pool key now.
    expect((await r.admin.request('DELETE', `/admin/groups/${group.id}`)).status).toBe(204);
    expect((await r.admin.request<{ groupIds: string[] }>('GET', `/admin/api-keys/${keyId}`)).body.groupIds).toEqual(
      [],
    );
    await askN(r.url, key, 3);
    expect(tally(fake, all, 45)).toEqual({ light: 0, heavy: 0, outsider: 3 });
  });

  it('an account whose subscription has ended is not routable; a later end date makes it so again', async () => {
    const [r] = (await deployment()) as [TestRelay];
    const ended = await addAccount(r.admin, fake, 'ended', {
      priority: 1,
      subscriptionExpiresAt: new Date(Date.now() - 60_000).toISOString(),
    });
    const other = await addAccount(r.admin, fake, 'other', { priority: 50 });
    const { key } = await r.admin.createKey();
    await askN(r.url, key, 5);
    expect(tally(fake, [ended, other])).toEqual({ ended: 0, other: 5 });
    expect(await health(r.admin, ended.id, SONNET)).toMatchObject({
      routable: false,
      blockers: [{ reason: 'subscription_expired', until: null }],
    });

    await patch(r.admin, `/admin/accounts/${ended.id}`, {
      subscriptionExpiresAt: new Date(Date.now() + 86_400_000).toISOString(),
    });
    await askN(r.url, key, 2);
    expect(servedKeys(fake, 5)).toEqual([ended.apiKey, ended.apiKey]);
  });
});
