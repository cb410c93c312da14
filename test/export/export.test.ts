import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountId, ApiKeyId } from '../../src/ids.js';
import { createUsageRecorder, type UsageEvent } from '../../src/usage/recorder.js';
import { manualClock } from '../../src/util/clock.js';
import { silentLogger } from '../../src/util/log.js';
import { startTestRelay, type TestRelay } from '../support/relay.js';

/**
 * Exports, streamed by the admin API: usage booked through the real recorder in a zone eight
 * hours ahead of UTC comes back from a real CSV parser as the same numbers; formula cells are
 * escaped; JSON and NDJSON hold the same rows; the records' `since` cursor gives each record
 * once. Every expected figure is summed here from the events themselves.
 */
const ZONE = 'Asia/Shanghai';
const H = 3_600_000;
const NOW = Date.parse('2026-12-03T04:00:00Z');
const dayOf = (ms: number) => new Date(ms + 8 * H).toISOString().slice(0, 10);

type Row = Record<string, string>;
type Json = Record<string, unknown>;

const csvRows = (text: string): Row[] => parse(text, { bom: true, columns: true, skip_empty_lines: true }) as Row[];

describe('streamed exports of usage and records', () => {
  let relay: TestRelay;
  const clock = manualClock(NOW);
  const keys: { id: ApiKeyId; name: string }[] = [];
  let account: AccountId;
  const events: UsageEvent[] = [];
  let recorder: ReturnType<typeof createUsageRecorder>;

  const event = (n: number, startedAt: number): UsageEvent => ({
    requestId: `req-${n}`,
    keyId: keys[n % keys.length]!.id,
    accountId: account,
    platform: 'claude',
    model: n % 2 ? 'claude-sonnet-4-5' : 'claude-opus-4-5',
    endpoint: '/v1/messages',
    stream: n % 2 === 0,
    status: 200,
    outcome: 'ok',
    usage: {
      inputTokens: 100 + n * 7,
      outputTokens: 20 + n,
      cacheCreate5mTokens: n % 3 === 0 ? 50 : 0,
      cacheCreate1hTokens: n % 5 === 0 ? 30 : 0,
      cacheReadTokens: n % 2 === 0 ? 400 + n : 0,
      webSearchRequests: 0,
    },
    costPico: 1_234_567_890_123 + n * 999_999_999_999,
    pricedAs: 'claude-opus-4-5',
    priceSource: 'exact',
    startedAt,
    durationMs: 1500,
    ttfbMs: 200,
  });

  beforeAll(async () => {
    relay = await startTestRelay({ env: { STATS_TIMEZONE: ZONE }, clock });
    for (const name of ['=HYPERLINK("http://x")', '+1 ops', '-2 team', '@alice', 'plain, "quoted"\nline']) {
      const r = await relay.admin.request<{ id: ApiKeyId }>('POST', '/admin/api-keys', { name });
      expect(r.status).toBe(201);
      keys.push({ id: r.body.id, name });
    }
    account = (await relay.admin.createAccount({ apiKey: `sk-ant-api03-${'a'.repeat(32)}`, baseUrl: 'http://x:9' }))
      .id as AccountId;
    recorder = createUsageRecorder({
      store: relay.instance.store,
      log: silentLogger,
      timeZone: ZONE,
      recordsKept: 1000,
    });
    // Every 5 hours over 6 days, and a second either side of midnight in Shanghai.
    const times: number[] = [];
    for (let t = NOW - 6 * 24 * H; t < NOW - 2 * H; t += 5 * H) times.push(t);
    const midnight = Date.parse('2026-11-30T16:00:00Z');
    times.push(midnight - 1000, midnight);
    for (const t of times) {
      const e = event(events.length, t);
      events.push(e);
      await recorder.record(e);
    }
    expect(await recorder.flush(10_000)).toBe(true);
  });
  afterAll(async () => {
    await relay?.close();
  });

  const pull = async (path: string) => {
    const res = await fetch(relay.url + path, { headers: { authorization: `Bearer ${relay.admin.token}` } });
    const bytes = new Uint8Array(await res.arrayBuffer());
    return {
      status: res.status,
      headers: res.headers,
      bytes,
      text: new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes),
    };
  };
  const range = 'from=2026-11-26&to=2026-12-04';

  it('exports usage per key and day as CSV that parses back into the booked numbers', async () => {
    const r = await pull(`/admin/export/usage?format=csv&group=key&step=day&${range}`);
    expect(r.status, r.text).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(r.headers.get('content-disposition')).toMatch(/^attachment; filename="crs-usage-by-key-day-.*\.csv"$/);
    expect([...r.bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(r.text).toContain('\r\n');
    const rows = csvRows(r.text);
    const expected = new Map<string, { requests: number; input: number; cacheRead: number; pico: bigint }>();
    for (const e of events) {
      const id = `${e.keyId}|${dayOf(e.startedAt)}`;
      const s = expected.get(id) ?? { requests: 0, input: 0, cacheRead: 0, pico: 0n };
      s.requests++;
      s.input += e.usage.inputTokens;
      s.cacheRead += e.usage.cacheReadTokens;
      s.pico += BigInt(e.costPico);
      expected.set(id, s);
    }
    expect(rows).toHaveLength(expected.size);
    for (const row of rows) {
      const s = expected.get(`${row.id}|${row.period}`)!;
      expect(s, JSON.stringify(row)).toBeDefined();
      expect(Number(row.requests)).toBe(s.requests);
      expect(Number(row.inputTokens)).toBe(s.input);
      expect(Number(row.cacheReadTokens)).toBe(s.cacheRead);
      expect(row.costPico).toBe(String(s.pico));
      // The decimal beside the integer, exact: 12 decimals of picodollars.
      const [whole, frac = ''] = row.cost!.split('.');
      expect(BigInt(whole!) * 10n ** 12n + BigInt(frac.padEnd(12, '0'))).toBe(s.pico);
      expect(row.periodStart).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    }
    // 30 November in Shanghai ends at 16:00 UTC: the event a second before is in it, the one at midnight is not.
    const nov30 = rows.filter((x) => x.period === '2026-11-30');
    expect(nov30.every((x) => x.periodEnd === '2026-11-30T16:00:00.000Z')).toBe(true);
  });

  it('escapes cells a spreadsheet would run as formulas, and quotes per RFC 4180', async () => {
    const r = await pull(`/admin/export/usage?format=csv&group=key&step=month&${range}`);
    const names = new Set(csvRows(r.text).map((x) => x.name));
    expect(names).toEqual(
      new Set(['\'=HYPERLINK("http://x")', "'+1 ops", "'-2 team", "'@alice", 'plain, "quoted"\nline']),
    );
    expect(r.text).toContain('"\'=HYPERLINK(""http://x"")"');
  });

  it('writes the same rows as JSON and NDJSON, per account and per model', async () => {
    const csv = csvRows((await pull(`/admin/export/usage?format=csv&group=model&step=week&${range}`)).text);
    const json = await pull(`/admin/export/usage?format=json&group=model&step=week&${range}`);
    expect(json.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const fromJson = JSON.parse(json.text) as Json[];
    const nd = await pull(`/admin/export/usage?format=ndjson&group=model&step=week&${range}`);
    const fromNd = nd.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Json);
    expect(fromJson).toEqual(fromNd);
    expect(fromJson.map((x) => [x.id, x.period, String(x.requests), x.costPico])).toEqual(
      csv.map((x) => [x.id, x.period, x.requests, x.costPico]),
    );
    const total = (xs: Json[]) => xs.reduce((a, x) => a + BigInt(x.costPico as string), 0n);
    const all = events.reduce((a, e) => a + BigInt(e.costPico), 0n);
    expect(total(fromJson)).toBe(all);
    const byAccount = JSON.parse((await pull(`/admin/export/usage?format=json&group=account&step=day&${range}`)).text);
    expect(total(byAccount as Json[])).toBe(all);
  });

  it('exports the records, and a since cursor gives each record once', async () => {
    const first = await pull(`/admin/export/records?format=csv&${range}`);
    expect(first.status, first.text).toBe(200);
    const rows = csvRows(first.text);
    expect(rows.map((x) => x.requestId).sort()).toEqual(events.map((e) => e.requestId).sort());
    const since = first.headers.get('x-next-since')!;
    expect(Date.parse(since)).toBe(NOW - 60_000);
    const one = rows.find((x) => x.requestId === 'req-3')!;
    expect(one.startedAt).toBe(new Date(events[3]!.startedAt).toISOString());
    expect(one.costPico).toBe(String(events[3]!.costPico));

    // Two more requests finish; an hour later the incremental pull has them and nothing else.
    const later = [event(events.length, NOW), event(events.length + 1, NOW + 10 * 60_000)];
    for (const e of later) await recorder.record(e);
    expect(await recorder.flush(10_000)).toBe(true);
    clock.advance(H);
    const next = await pull(`/admin/export/records?format=ndjson&since=${encodeURIComponent(since)}&${range}`);
    const got = next.text
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as Json).requestId);
    expect(got.sort()).toEqual(later.map((e) => e.requestId).sort());
    clock.set(NOW);
  });

  it("keeps a deleted key's usage in the export, and refuses bad input in the admin shape", async () => {
    const gone = keys[0]!;
    expect((await relay.admin.request('DELETE', `/admin/api-keys/${gone.id}`)).status).toBe(204);
    const rows = csvRows((await pull(`/admin/export/usage?format=csv&group=key&step=month&${range}`)).text);
    const requests = rows.filter((x) => x.id === gone.id).reduce((a, x) => a + Number(x.requests), 0);
    expect(requests).toBe(events.filter((e) => e.keyId === gone.id).length);

    for (const [query, words] of [
      ['format=xlsx', 'format'],
      ['group=planet', 'group'],
      ['step=minute', 'step'],
      ['from=2026-13-01', 'from'],
      ['color=red', 'color'],
      ['since=yesterday', 'since'],
    ] as const) {
      const r = await pull(`/admin/export/usage?${query}`);
      expect(r.status, query).toBe(400);
      expect(JSON.parse(r.text).error.message).toContain(words);
    }
    const bad = await pull('/admin/export/records?keyId=nope');
    expect(bad.status).toBe(400);
    const anon = await fetch(`${relay.url}/admin/export/usage`);
    expect(anon.status).toBe(401);
  });
});

/**
 * A large export: 1,000 keys (deleted ones, whose buckets stay) × 100 days = 100,000 rows, read
 * and serialised on the pool in chunks. Memory stays bounded, a client that stops reading stops
 * the reading of Redis, and one that leaves ends it.
 */
describe('a 100,000-row export', () => {
  const KEYS = 1_000;
  const DAYS = 100;
  const NOW_L = Date.parse('2026-12-03T04:00:00Z');
  let relay: TestRelay;
  let from = '';
  let to = '';

  beforeAll(async () => {
    relay = await startTestRelay({ env: { STATS_TIMEZONE: 'UTC' }, clock: manualClock(NOW_L) });
    const { redis, keys } = relay.instance.store;
    const ids = Array.from({ length: KEYS }, (_, i) => `k_${i.toString(36).padStart(16, '0')}` as ApiKeyId);
    await redis.hset(
      keys.apiKeyRetired(),
      Object.fromEntries(ids.map((id, i) => [id, JSON.stringify({ name: `key ${i}` })])),
    );
    const days = Array.from({ length: DAYS }, (_, d) =>
      new Date(NOW_L - (d + 1) * 86_400_000).toISOString().slice(0, 10),
    );
    from = days[DAYS - 1]!;
    to = new Date(NOW_L).toISOString().slice(0, 10);
    for (let i = 0; i < ids.length; i += 50) {
      await Promise.all(
        ids.slice(i, i + 50).flatMap((id, j) =>
          days.map((day, d) =>
            redis.hset(keys.keyUsageDaily(id, day), {
              requests: 1 + ((i + j + d) % 7),
              inputTokens: 1000 + d,
              outputTokens: 100 + j,
              costPico: 123_456_789 * (d + 1),
            }),
          ),
        ),
      );
    }
  }, 180_000);
  afterAll(async () => {
    await relay?.close();
  });

  const open = (signal?: AbortSignal) =>
    fetch(`${relay.url}/admin/export/usage?format=csv&group=key&step=day&from=${from}&to=${to}`, {
      headers: { authorization: `Bearer ${relay.admin.token}` },
      signal,
    });
  const completed = () => relay.instance.deps.work.stats().completed;

  it('streams every row with bounded memory', async () => {
    // A first export starts the pool's thread (its own heap) and warms the caches.
    await (await open()).arrayBuffer();
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    const res = await open();
    expect(res.status).toBe(200);
    let lines = 0;
    let bytes = 0;
    let requests = 0;
    let tail = '';
    const decoder = new TextDecoder();
    for await (const part of res.body!) {
      bytes += part.byteLength;
      const text = tail + decoder.decode(part, { stream: true });
      const cut = text.lastIndexOf('\r\n');
      for (const line of text.slice(0, cut).split('\r\n')) {
        lines++;
        if (lines > 1) requests += Number(line.split(',')[8]);
      }
      tail = text.slice(cut + 2);
    }
    clearInterval(sampler);
    expect(lines - 1).toBe(KEYS * DAYS);
    let want = 0;
    for (let i = 0; i < KEYS; i++) for (let d = 0; d < DAYS; d++) want += 1 + ((i + d) % 7);
    expect(requests).toBe(want);
    const grewMb = (peak - before) / 2 ** 20;
    console.log(
      `100k-row export: ${(bytes / 2 ** 20).toFixed(1)} MB streamed, RSS grew ${grewMb.toFixed(1)} MB at peak`,
    );
    // A budget that does not grow with the export (the next test shows why: the server reads at
    // most a few chunks ahead of the socket). Client and server share this process's RSS here.
    expect(grewMb).toBeLessThan(64);
  });

  it('reads no further ahead than a few chunks while the client does not read, and stops when it leaves', async () => {
    const total = Math.ceil(KEYS / 40);
    const start = completed();
    const controller = new AbortController();
    const res = await open(controller.signal);
    const reader = res.body!.getReader();
    await reader.read();
    // The client stops reading: the server fills the socket's buffers, then waits.
    let paused = -1;
    for (let i = 0; i < 40 && completed() - start !== paused; i++) {
      paused = completed() - start;
      await new Promise((r) => setTimeout(r, 1000));
    }
    await new Promise((r) => setTimeout(r, 1000));
    expect(completed() - start).toBe(paused);
    expect(paused).toBeLessThan(total - 5);
    controller.abort();
    await new Promise((r) => setTimeout(r, 1500));
    const left = completed() - start;
    expect(left).toBeLessThanOrEqual(paused + 2);
    expect(left).toBeLessThan(total);
  });
});
