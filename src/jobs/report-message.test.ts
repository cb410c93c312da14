import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { measure } from '../alerts/channels/render.js';
import { CHAT_ROWS, renderChat, renderReportHtml, renderReportText } from '../alerts/channels/report.js';
import { webhookPayload } from '../alerts/channels/webhook.js';
import { CSV_COLUMNS, MESSAGE_ROWS, reportMessage, summaryCsv, usd } from './report-message.js';
import { incidentsOf, type ReportSummary, type TopRow, type Totals } from './report-summary.js';

const totals = (requests: number, costPico: bigint): Totals => ({
  requests,
  errors: Math.floor(requests / 10),
  errorRate: requests ? Math.floor(requests / 10) / requests : null,
  inputTokens: requests * 100,
  outputTokens: requests * 20,
  cacheCreateTokens: requests * 5,
  cacheReadTokens: requests * 50,
  totalTokens: requests * 175,
  costPico: String(costPico),
  costUsd: Number(costPico) / 1e12,
});

const row = (i: number, name: string, platform = ''): TopRow => ({
  rank: i + 1,
  id: `k_${String(i).padStart(4, '0')}`,
  name,
  platform,
  deleted: i === 2,
  ...totals(1000 - i, BigInt(1000 - i) * 1_234_567_891n),
  previousCostUsd: 0.5,
  change: i === 1 ? null : 12.5,
});

function summary(rows: number): ReportSummary {
  const names = ['=HYPERLINK("http://x")', '+1 ops', '<script>alert(1)</script>', '@alice', 'plain, "quoted"'];
  const list = (platform: string) =>
    Array.from({ length: rows }, (_, i) => row(i, `${names[i % names.length]} ${i}`, platform));
  return {
    kind: 'daily',
    timeZone: 'Asia/Shanghai',
    period: { name: '2026-12-02', start: '2026-12-01T16:00:00.000Z', end: '2026-12-02T16:00:00.000Z' },
    previous: { name: '2026-12-01', start: '2026-11-30T16:00:00.000Z', end: '2026-12-01T16:00:00.000Z' },
    totals: totals(12_345, 9_007_199_254_740_993_123n),
    previousTotals: totals(10_000, 8_000_000_000_000_000_000n),
    change: { requests: 23.45, errors: 23.4, totalTokens: 23.45, cost: 12.5899 },
    top: { keys: list(''), accounts: list('claude'), models: list('') },
    incidents: [
      {
        rule: 'account_unauthorized',
        ruleName: 'Account unauthorized',
        subject: 'claude account "team-a"',
        firingAt: '2026-12-02T01:00:00.000Z',
        resolvedAt: null,
      },
    ],
    incidentsComplete: true,
  };
}

const AT = Date.parse('2026-12-03T00:00:05Z');

describe('a report summary as a message', () => {
  const s = summary(1000);
  const { message, withAttachment } = reportMessage(s, { node: 'relay-1', at: AT, publicUrl: 'https://relay.example' });

  it('is a report message: title, figures, sections of the first rows, a link; the CSV only where attached', () => {
    expect(message.kind).toBe('report');
    expect(message.title).toBe('Daily report 2026-12-02: $9,007,199.25 · 12,345 requests · 10% errors');
    expect(message.url).toBe('https://relay.example/admin/reports?period=daily&name=2026-12-02');
    expect(message.report?.type).toBe('report.daily');
    const cost = message.report?.lines.find((l) => l.label === 'Cost');
    expect(cost?.value).toBe('$9,007,199.25 (+12.5899% on 2026-12-01)');
    expect(message.report?.sections.map((x) => [x.title, x.rows.length, x.total])).toEqual([
      ['Top keys by cost', MESSAGE_ROWS, 1000],
      ['Top accounts by cost', MESSAGE_ROWS, 1000],
      ['Top models by cost', MESSAGE_ROWS, 1000],
      ['Incidents', 1, 1],
    ]);
    expect(message.report?.attachment).toBeUndefined();
    expect(withAttachment.id).toBe(message.id);
    expect(withAttachment.report?.attachment?.filename).toBe('report-daily-2026-12-02.csv');
    // The data the webhook carries has the first rows only.
    expect((message.report?.data.top as { keys: unknown[] }).keys).toHaveLength(MESSAGE_ROWS);
    expect(usd(0.00123456)).toBe('$0.001235');
  });

  it('attaches a CSV that parses back to the same numbers, formulas escaped, costs exact', () => {
    const csv = withAttachment.report?.attachment?.content ?? '';
    expect(csv.startsWith('\uFEFF')).toBe(true);
    expect(csv).toBe(summaryCsv(s));
    const records = parse(csv, { bom: true, columns: true }) as Record<string, string>[];
    expect(Object.keys(records[0] ?? {})).toEqual([...CSV_COLUMNS]);
    expect(records).toHaveLength(1 + 3 * 1000);
    const total = records[0]!;
    expect(total).toMatchObject({ group: 'deployment', requests: '12345', costPico: '9007199254740993123' });
    expect(total.costUsd).toBe('9007199.254740993123');
    const keys = records.filter((r) => r.group === 'key');
    expect(keys.map((r) => Number(r.requests))).toEqual(s.top.keys.map((r) => r.requests));
    expect(keys.map((r) => r.costPico)).toEqual(s.top.keys.map((r) => r.costPico));
    expect(keys[0]?.name).toBe(`'=HYPERLINK("http://x") 0`);
    expect(keys[1]?.name).toBe(`'+1 ops 1`);
    expect(keys[3]?.name).toBe(`'@alice 3`);
    expect(keys[4]?.name).toBe('plain, "quoted" 4');
    expect(records.filter((r) => r.group === 'account')[0]?.platform).toBe('claude');
  });

  it('fits every chat platform, however many rows, showing the first ones', () => {
    const limits = [
      ['wecom', 4096, 'bytes'],
      ['dingtalk', 20000, 'bytes'],
      ['feishu', 16000, 'bytes'],
      ['slack', 3000, 'chars'],
      ['discord', 4096, 'chars'],
      ['telegram', 4096, 'chars'],
    ] as const;
    for (const [flavor, max, unit] of limits) {
      const text = renderChat(message, flavor, { limit: { max, unit } });
      expect(measure(text, unit), flavor).toBeLessThanOrEqual(max);
      expect(text, flavor).toContain('Top keys by cost');
      expect(text, flavor).toContain('https://relay.example/admin/reports?period=daily');
      expect(text, flavor).not.toContain(`${CHAT_ROWS + 1}. `);
    }
    const slack = renderChat(message, 'slack', { limit: { max: 3000, unit: 'chars' } });
    expect(slack).toContain('&lt;script&gt;');
    expect(slack).not.toContain('<script>');
    const tight = renderChat(message, 'wecom', { limit: { max: 700, unit: 'bytes' } });
    expect(measure(tight, 'bytes')).toBeLessThanOrEqual(700);
    expect(tight).toContain('Cost');
  });

  it('email: text and HTML with every row of the message, escaped', () => {
    const html = renderReportHtml(withAttachment);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toContain('<script>');
    expect(html).toContain('… and 990 more (in the attached CSV)');
    expect(html).toContain('Account unauthorized');
    const text = renderReportText(message);
    expect(text).toContain('Cost: $9,007,199.25');
    expect(text).toContain('1. =HYPERLINK');
  });

  it('webhook: the report type, the period in ISO, the data', () => {
    const body = webhookPayload(withAttachment);
    expect(body).toMatchObject({
      id: message.id,
      type: 'report.daily',
      period: { kind: 'daily', name: '2026-12-02', start: '2026-12-01T16:00:00.000Z' },
      node: 'relay-1',
      at: '2026-12-03T00:00:05.000Z',
    });
    expect(JSON.stringify(body)).not.toContain('costUsd,');
    expect((body as unknown as { report: ReportSummary }).report.totals.costPico).toBe('9007199254740993123');
  });
});

describe('incidents of a period', () => {
  it('alerts that started firing in it, with when they resolved', () => {
    const h = (fingerprint: string, from: string | null, to: string | null, at: string) => ({
      fingerprint,
      rule: fingerprint.split('|')[0]!,
      subject: `subject ${fingerprint}`,
      from: from as never,
      to: to as never,
      at: Date.parse(at),
      value: null,
    });
    const history = [
      h('b|1', 'firing', 'resolved', '2026-12-02T20:00:00Z'),
      h('c|1', 'pending', 'firing', '2026-12-02T17:00:00Z'),
      h('b|1', 'pending', 'firing', '2026-12-02T10:00:00Z'),
      h('a|1', 'pending', 'firing', '2026-12-01T10:00:00Z'),
    ];
    const got = incidentsOf(
      history,
      new Map([['b', 'Rule B']]),
      Date.parse('2026-12-02T00:00:00Z'),
      Date.parse('2026-12-03T00:00:00Z'),
    );
    expect(got).toEqual([
      {
        rule: 'b',
        ruleName: 'Rule B',
        subject: 'subject b|1',
        firingAt: '2026-12-02T10:00:00.000Z',
        resolvedAt: '2026-12-02T20:00:00.000Z',
      },
      { rule: 'c', ruleName: 'c', subject: 'subject c|1', firingAt: '2026-12-02T17:00:00.000Z', resolvedAt: null },
    ]);
  });
});
