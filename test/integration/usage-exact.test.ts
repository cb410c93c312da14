import Anthropic from '@anthropic-ai/sdk';
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_USAGE, startFakeAnthropic, type FakeAnthropic, type FakeUsage } from '../fakes/anthropic.js';
import type { AccountId, ApiKeyId } from '../../src/ids.js';
import { createLogger, type Logger } from '../../src/util/log.js';
import { startTestRelay, type TestRelay, type UsageReport } from '../support/relay.js';
import {
  booked,
  byModel,
  dailySum,
  expectedBooking,
  sumBooked,
  untilBooked,
  type Booked,
  type PricedModel,
} from '../support/usage-math.js';

const SONNET: PricedModel = 'claude-sonnet-5-5';
const OPUS: PricedModel = 'claude-opus-5-5';
const HELLO = [{ role: 'user' as const, content: 'hello' }];

interface Deployment {
  relay: TestRelay;
  accounts: { id: string; upstreamKey: string }[];
  keys: { id: string; client: Anthropic }[];
}

async function deploy(
  fake: FakeAnthropic,
  accounts: number,
  keys: number,
  opts: { log?: Logger } = {},
): Promise<Deployment> {
  const relay = await startTestRelay({ log: opts.log });
  const d: Deployment = { relay, accounts: [], keys: [] };
  for (let i = 0; i < accounts; i++) {
    const upstreamKey = `sk-ant-usage-${randomBytes(12).toString('hex')}`;
    const { id } = await relay.admin.createAccount({ name: `account ${i}`, apiKey: upstreamKey, baseUrl: fake.url });
    d.accounts.push({ id, upstreamKey });
  }
  for (let i = 0; i < keys; i++) {
    const { id, key } = await relay.admin.createKey({ name: `key ${i}` });
    d.keys.push({ id, client: new Anthropic({ apiKey: key, baseURL: `${relay.url}/api`, maxRetries: 0 }) });
  }
  return d;
}

/** Waits until `read` shows `byModelWanted`'s requests, then checks every counter of it exactly. */
async function expectReport(
  read: () => Promise<UsageReport>,
  byModelWanted: Record<string, Booked>,
  timeoutMs = 5_000,
): Promise<void> {
  const total = sumBooked(Object.values(byModelWanted));
  const report = await untilBooked(read, total.requests, timeoutMs);
  expect(booked(report.total)).toEqual(total);
  expect(report.total.cost).toBeCloseTo(Number(total.costPico) / 1e12, 12);
  expect(dailySum(report)).toEqual(total);
  expect(byModel(report)).toEqual(byModelWanted);
}

describe('usage is booked exactly as the upstream reported it', () => {
  let fake: FakeAnthropic;
  let d: Deployment | undefined;

  beforeAll(async () => {
    fake = await startFakeAnthropic();
  });
  afterEach(async () => {
    await d?.relay.close();
    d = undefined;
  });
  afterAll(async () => {
    await fake?.close();
  });

  it('non-stream: tokens by kind, 5m/1h cache writes, cache reads, web searches and cost, per key, account, model and day', async () => {
    d = await deploy(fake, 1, 1);
    const [acct, key] = [d.accounts[0]!, d.keys[0]!];
    const usage: FakeUsage = {
      input_tokens: 1234,
      output_tokens: 567,
      cache_creation_input_tokens: 3000,
      cache_creation: { ephemeral_5m_input_tokens: 1000, ephemeral_1h_input_tokens: 2000 },
      cache_read_input_tokens: 4000,
      server_tool_use: { web_search_requests: 3 },
    };
    fake.script(acct.upstreamKey, { kind: 'message', usage });

    const msg = await key.client.messages.create({ model: SONNET, max_tokens: 100, messages: HELLO });
    expect(msg.usage).toMatchObject({ input_tokens: 1234, output_tokens: 567, cache_read_input_tokens: 4000 });

    const want = expectedBooking(SONNET, usage);
    // 1234×$2 + 567×$10 + 1000×$2.50 + 2000×$4 + 4000×$0.10 per million, + 3 searches × $0.01
    expect(want.costPico).toBe('49038000000');
    await expectReport(() => d!.relay.admin.keyUsage(key.id), { [SONNET]: want });
    await expectReport(() => d!.relay.admin.accountUsage(acct.id), { [SONNET]: want });

    const records = await d.relay.admin.request<{ items: Record<string, unknown>[] }>(
      'GET',
      `/admin/api-keys/${key.id}/records?limit=10`,
    );
    expect(records.body.items).toHaveLength(1);
    expect(records.body.items[0]).toMatchObject({
      keyId: key.id,
      accountId: acct.id,
      model: SONNET,
      stream: false,
      status: 200,
      outcome: 'ok',
      cost: 0.049038,
      costPico: '49038000000',
      usage: {
        inputTokens: 1234,
        outputTokens: 567,
        cacheCreate5mTokens: 1000,
        cacheCreate1hTokens: 2000,
        cacheReadTokens: 4000,
        webSearchRequests: 3,
      },
    });
  });

  it('stream: message_start and message_delta usage combined, two models kept apart', async () => {
    d = await deploy(fake, 1, 1);
    const [acct, key] = [d.accounts[0]!, d.keys[0]!];
    const sonnetUsage: FakeUsage = {
      input_tokens: 900,
      output_tokens: 3456,
      cache_creation_input_tokens: 700,
      cache_creation: { ephemeral_5m_input_tokens: 200, ephemeral_1h_input_tokens: 500 },
      cache_read_input_tokens: 12_000,
      server_tool_use: { web_search_requests: 2 },
    };
    // No 5m/1h breakdown: everything written counts as 5-minute writes.
    const opusUsage: FakeUsage = {
      input_tokens: 50,
      output_tokens: 80,
      cache_creation_input_tokens: 1500,
      cache_read_input_tokens: 60,
    };
    fake.script(
      acct.upstreamKey,
      { kind: 'message', usage: sonnetUsage, deltas: 5 },
      { kind: 'message', usage: opusUsage },
    );

    const s1 = await key.client.messages.stream({ model: SONNET, max_tokens: 100, messages: HELLO }).finalMessage();
    const s2 = await key.client.messages.stream({ model: OPUS, max_tokens: 100, messages: HELLO }).finalMessage();
    expect([s1.usage.output_tokens, s2.usage.output_tokens]).toEqual([3456, 80]);

    const want = { [SONNET]: expectedBooking(SONNET, sonnetUsage), [OPUS]: expectedBooking(OPUS, opusUsage) };
    expect(want[OPUS]).toMatchObject({ cacheCreate5mTokens: 1500, cacheCreate1hTokens: 0 });
    // opus: 50×$4 + 80×$20 + 1500×$5 + 60×$0.20 per million
    expect(want[OPUS].costPico).toBe('9312000000');
    await expectReport(() => d!.relay.admin.keyUsage(key.id), want);
    await expectReport(() => d!.relay.admin.accountUsage(acct.id), want);
  });

  it('200 concurrent requests, mixed stream and not, two keys, two accounts: totals equal the sum of what was reported', async () => {
    d = await deploy(fake, 2, 2);
    const n = 200;
    const usageOf = (i: number): FakeUsage => ({
      input_tokens: 10 + i * 7,
      output_tokens: 1 + ((i * 13) % 97),
      cache_creation_input_tokens: i % 4 === 0 ? 100 + i : 0,
      cache_creation: {
        ephemeral_5m_input_tokens: i % 4 === 0 ? 100 : 0,
        ephemeral_1h_input_tokens: i % 4 === 0 ? i : 0,
      },
      cache_read_input_tokens: i % 3 === 0 ? 1000 + i : 0,
      server_tool_use: { web_search_requests: i % 10 === 0 ? 1 : 0 },
    });
    // Each answer says which request it belongs to, so a key's expected usage is known exactly
    // whichever account served it.
    for (let i = 0; i < n; i++) fake.script('*', { kind: 'message', text: `answer ${i}`, usage: usageOf(i) });
    const answered = new Set<string>();
    const plan = Array.from({ length: n }, (_, i) => ({
      key: d!.keys[i % 2]!,
      stream: i % 3 !== 1,
      model: i % 5 < 3 ? SONNET : OPUS,
    }));

    const texts = await Promise.all(
      plan.map(async (p, j) => {
        // Distinct conversations, so sticky sessions do not pin them all to one account.
        const req = {
          model: p.model,
          max_tokens: 100,
          messages: [{ role: 'user' as const, content: `conversation ${j}` }],
        };
        const msg = p.stream
          ? await p.key.client.messages.stream(req).finalMessage()
          : await p.key.client.messages.create(req);
        const block = msg.content[0];
        return block?.type === 'text' ? block.text : '';
      }),
    );

    const perKey = new Map<string, Record<string, Booked[]>>();
    texts.forEach((text, j) => {
      const i = Number(/^answer (\d+)$/.exec(text)?.[1] ?? NaN);
      expect(Number.isInteger(i)).toBe(true);
      answered.add(text);
      const p = plan[j]!;
      const rows = perKey.get(p.key.id) ?? {};
      (rows[p.model] ??= []).push(expectedBooking(p.model, usageOf(i)));
      perKey.set(p.key.id, rows);
    });
    expect(answered.size).toBe(n); // every scripted answer used exactly once

    const sumRows = (rows: Record<string, Booked[]>) =>
      Object.fromEntries(Object.entries(rows).map(([m, list]) => [m, sumBooked(list)]));
    for (const key of d.keys)
      await expectReport(() => d!.relay.admin.keyUsage(key.id), sumRows(perKey.get(key.id) ?? {}), 20_000);

    // Accounts: exactly what the fake reported to each upstream key.
    expect(d.accounts.reduce((sum, a) => sum + fake.served(a.upstreamKey), 0)).toBe(n);
    let accountsTotal = 0;
    for (const acct of d.accounts) {
      const rows: Record<string, Booked[]> = {};
      for (const r of fake.reported.filter((x) => x.apiKey === acct.upstreamKey)) {
        (rows[r.model] ??= []).push(expectedBooking(r.model as PricedModel, { ...DEFAULT_USAGE, ...r.usage }));
      }
      await expectReport(() => d!.relay.admin.accountUsage(acct.id), sumRows(rows), 20_000);
      const report = await d.relay.admin.accountUsage(acct.id);
      expect(report.total.requests).toBe(fake.served(acct.upstreamKey));
      accountsTotal += report.total.requests;
    }
    expect(accountsTotal).toBe(n);
    console.log(
      `200 requests spread over the accounts: ${d.accounts.map((a) => fake.served(a.upstreamKey)).join(' + ')}`,
    );

    // And the grand totals agree both ways.
    const keyTotals = await Promise.all(d.keys.map(async (k) => booked((await d!.relay.admin.keyUsage(k.id)).total)));
    const reported = fake.reported.filter((r) => d!.accounts.some((a) => a.upstreamKey === r.apiKey));
    expect(sumBooked(keyTotals)).toEqual(
      sumBooked(reported.map((r) => expectedBooking(r.model as PricedModel, r.usage))),
    );
  });

  // The pipeline books a JSON answer before sending it, and a stream before ending it, so an
  // answer the client has seen in full is already counted. Many keys booking at once put writes
  // for several Redis Cluster slots (on different nodes) into the same tick: each must still land
  // on its first try, against a healthy Redis.
  it('many keys booking at once: every usage write lands first time, and an ended answer is already booked', async () => {
    const warnings: string[] = [];
    const log = createLogger('warn', {}, (line) => warnings.push(line));
    d = await deploy(fake, 2, 8, { log });
    const n = 160;
    await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const client = d!.keys[i % 8]!.client;
        const req = { model: SONNET, max_tokens: 10, messages: [{ role: 'user' as const, content: `question ${i}` }] };
        return i % 2 ? client.messages.create(req) : client.messages.stream(req).finalMessage();
      }),
    );
    const keyRequests = await Promise.all(
      d.keys.map(async (k) => (await d!.relay.admin.keyUsage(k.id)).total?.requests),
    );
    expect(keyRequests).toEqual(d.keys.map(() => n / 8));
    const failed = warnings.filter((w) => /usage write failed|lease release failed/.test(w));
    expect(
      failed.map((w) => (JSON.parse(w) as { msg: string; err?: { message?: string } }).err?.message ?? w).slice(0, 3),
    ).toEqual([]);
  });

  // The same, made deterministic: the relay's own recorder is handed eight bookings in one tick,
  // so their writes (one Lua call per key slot) go out together.
  it('bookings for eight keys in one tick are all written at once', async () => {
    const warnings: string[] = [];
    d = await deploy(fake, 1, 8, { log: createLogger('warn', {}, (line) => warnings.push(line)) });
    const { recorder } = d.relay.instance.deps;
    const usage = {
      inputTokens: 100,
      outputTokens: 10,
      cacheCreate5mTokens: 0,
      cacheCreate1hTokens: 0,
      cacheReadTokens: 0,
      webSearchRequests: 0,
    };
    const started = Date.now();
    await Promise.all(
      d.keys.map((k, i) =>
        recorder.record({
          requestId: `req_direct_${i}`,
          keyId: k.id as ApiKeyId,
          accountId: d!.accounts[0]!.id as AccountId,
          platform: 'claude',
          model: SONNET,
          endpoint: 'anthropic.messages',
          stream: false,
          status: 200,
          outcome: 'ok',
          usage,
          costPico: 300_000_000,
          pricedAs: SONNET,
          priceSource: 'exact',
          startedAt: started,
          durationMs: 5,
          ttfbMs: 2,
        }),
      ),
    );
    const totals = await Promise.all(d.keys.map(async (k) => booked((await d!.relay.admin.keyUsage(k.id)).total)));
    expect(totals).toEqual(
      d.keys.map(() => ({ ...expectedBooking(SONNET, { input_tokens: 100, output_tokens: 10 }) })),
    );
    expect(
      warnings.map((w) => (JSON.parse(w) as { err?: { message?: string } }).err?.message ?? w).slice(0, 3),
    ).toEqual([]);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
