import { formatTime } from '../alerts/channels/render.js';
import { newNotificationId } from '../alerts/message.js';
import type { AlertMessage, ReportContent, ReportSection } from '../alerts/types.js';
import { BOM, csvLine, usdDecimal, type Cell } from '../reports/csv.js';
import type { ReportKind } from '../reports/schedule/index.js';
import type { ReportSummary, TopRow, Totals } from './report-summary.js';

/**
 * A summary worded for the alert channels: a message of kind `report` whose content the channels
 * lay out (chat: the figures and the first rows; email: tables and the CSV; webhook: the data).
 */

/** Rows of each top list in the message itself (the CSV has every row the summary holds). */
export const MESSAGE_ROWS = 10;

const KIND_NAME: Record<ReportKind, string> = { daily: 'Daily', weekly: 'Weekly', monthly: 'Monthly' };

const numbers = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const int = (n: number) => numbers.format(n);
const dollars = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const cents = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 6 });
/** `$1,234.57`; small amounts keep their digits: `$0.001234`. */
export const usd = (v: number): string => `$${(Math.abs(v) >= 1 ? dollars : cents).format(v)}`;
const percent = (ratio: number) => `${(Math.round(ratio * 1e4) / 100).toString()}%`;
/** `+12.5%`, `-3%`, or `new` when there was nothing before. */
export const changeWord = (change: number | null): string =>
  change === null ? 'new' : `${change > 0 ? '+' : ''}${change}%`;

const nameOf = (r: TopRow) => `${r.name || r.id}${r.deleted ? ' (deleted)' : ''}`;

function lines(s: ReportSummary): ReportContent['lines'] {
  const vs = (change: number | null, before: number) =>
    before === 0 && change === null ? '' : ` (${changeWord(change)} on ${s.previous.name})`;
  const t = s.totals;
  const p = s.previousTotals;
  const open = s.incidents.filter((i) => i.resolvedAt === null).length;
  return [
    {
      label: 'Period',
      value: `${s.period.name}: ${formatTime(Date.parse(s.period.start), s.timeZone)} to ${formatTime(Date.parse(s.period.end), s.timeZone)}`,
    },
    { label: 'Requests', value: `${int(t.requests)}${vs(s.change.requests, p.requests)}` },
    {
      label: 'Errors',
      value: `${int(t.errors)}${t.errorRate === null ? '' : `, ${percent(t.errorRate)} of requests`}${vs(s.change.errors, p.errors)}`,
    },
    {
      label: 'Tokens',
      value:
        `${int(t.totalTokens)}${vs(s.change.totalTokens, p.totalTokens)}: input ${int(t.inputTokens)}, ` +
        `output ${int(t.outputTokens)}, cache writes ${int(t.cacheCreateTokens)}, cache reads ${int(t.cacheReadTokens)}`,
    },
    { label: 'Cost', value: `${usd(t.costUsd)}${vs(s.change.cost, p.costUsd)}` },
    {
      label: 'Incidents',
      value: s.incidents.length === 0 ? 'none' : `${s.incidents.length}${open ? `, ${open} not resolved` : ''}`,
    },
  ];
}

function topSection(title: string, first: string, rows: readonly TopRow[], platform: boolean): ReportSection {
  const columns = [first, ...(platform ? ['Platform'] : []), 'Cost', 'Requests', 'Errors', 'Tokens', 'Change'];
  return {
    title,
    columns,
    rows: rows
      .slice(0, MESSAGE_ROWS)
      .map((r) => [
        nameOf(r),
        ...(platform ? [r.platform] : []),
        usd(r.costUsd),
        int(r.requests),
        int(r.errors),
        int(r.totalTokens),
        changeWord(r.change),
      ]),
    total: rows.length,
  };
}

function sections(s: ReportSummary): ReportSection[] {
  const at = (iso: string | null) => (iso === null ? 'not yet' : formatTime(Date.parse(iso), s.timeZone));
  return [
    topSection('Top keys by cost', 'Key', s.top.keys, false),
    topSection('Top accounts by cost', 'Account', s.top.accounts, true),
    topSection('Top models by cost', 'Model', s.top.models, false),
    {
      title: s.incidentsComplete ? 'Incidents' : 'Incidents (the alert history kept starts within the period)',
      columns: ['Alert', 'Subject', 'Firing', 'Resolved'],
      rows: s.incidents
        .slice(0, MESSAGE_ROWS * 2)
        .map((i) => [i.ruleName, i.subject, at(i.firingAt), at(i.resolvedAt)]),
      total: s.incidents.length,
    },
  ];
}

export const CSV_COLUMNS = [
  'period',
  'periodStart',
  'periodEnd',
  'group',
  'rank',
  'id',
  'name',
  'platform',
  'deleted',
  'requests',
  'errors',
  'inputTokens',
  'outputTokens',
  'cacheCreateTokens',
  'cacheReadTokens',
  'totalTokens',
  'costPico',
  'costUsd',
  'previousCostUsd',
  'changePercent',
] as const;

/** The attachment: a BOM, the header, the deployment's total, then every top row of keys, accounts and models. */
export function summaryCsv(s: ReportSummary): string {
  const p = s.period;
  const figures = (t: Totals): Cell[] => [
    t.requests,
    t.errors,
    t.inputTokens,
    t.outputTokens,
    t.cacheCreateTokens,
    t.cacheReadTokens,
    t.totalTokens,
    t.costPico,
    usdDecimal(BigInt(t.costPico)),
  ];
  const out = [BOM, csvLine(CSV_COLUMNS)];
  out.push(
    csvLine([
      p.name,
      p.start,
      p.end,
      'deployment',
      0,
      '',
      'total',
      '',
      false,
      ...figures(s.totals),
      usdDecimal(BigInt(s.previousTotals.costPico)),
      s.change.cost,
    ]),
  );
  for (const [group, rows] of [
    ['key', s.top.keys],
    ['account', s.top.accounts],
    ['model', s.top.models],
  ] as const) {
    for (const r of rows) {
      out.push(
        csvLine([
          p.name,
          p.start,
          p.end,
          group,
          r.rank,
          r.id,
          r.name,
          r.platform,
          r.deleted,
          ...figures(r),
          r.previousCostUsd,
          r.change,
        ]),
      );
    }
  }
  return out.join('');
}

/** The summary without the rows past MESSAGE_ROWS: the webhook's data and the console inbox's. */
const trimmed = (s: ReportSummary): ReportSummary => ({
  ...s,
  top: {
    keys: s.top.keys.slice(0, MESSAGE_ROWS),
    accounts: s.top.accounts.slice(0, MESSAGE_ROWS),
    models: s.top.models.slice(0, MESSAGE_ROWS),
  },
});

/**
 * The report message of a summary, and the same message with the CSV attached (for the channels
 * that carry files): one notification id for both, as every channel gets the same report.
 */
export function reportMessage(
  s: ReportSummary,
  opts: { node: string; at: number; publicUrl: string | null },
): { message: AlertMessage; withAttachment: AlertMessage } {
  const name = KIND_NAME[s.kind];
  const t = s.totals;
  const errors = t.errorRate === null ? '' : ` · ${percent(t.errorRate)} errors`;
  const report: ReportContent = {
    type: `report.${s.kind}`,
    period: { kind: s.kind, name: s.period.name, start: Date.parse(s.period.start), end: Date.parse(s.period.end) },
    lines: lines(s),
    sections: sections(s),
    data: trimmed(s) as unknown as Record<string, unknown>,
  };
  const query = `period=${s.kind}&name=${encodeURIComponent(s.period.name)}`;
  const message: AlertMessage = {
    id: newNotificationId(),
    kind: 'report',
    rule: {
      id: `report.${s.kind}`,
      name: `${name} report`,
      severity: 'P3',
      category: 'business',
      description: `Usage of ${s.period.name} (${s.timeZone}).`,
    },
    title: `${name} report ${s.period.name}: ${usd(t.costUsd)} · ${int(t.requests)} requests${errors}`,
    items: [],
    node: opts.node,
    at: opts.at,
    url: opts.publicUrl ? `${opts.publicUrl}/admin/reports?${query}` : null,
    timeZone: s.timeZone,
    report,
  };
  const attachment = {
    filename: `report-${s.kind}-${s.period.name}.csv`,
    contentType: 'text/csv; charset=utf-8',
    content: summaryCsv(s),
  };
  return { message, withAttachment: { ...message, report: { ...report, attachment } } };
}
