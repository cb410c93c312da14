import type { AlertMessage, ReportContent, ReportSection } from '../types.js';
import {
  MARKUPS,
  clip,
  escAttr,
  fitItems,
  formatTime,
  moreLine,
  renderMarkdown,
  type Flavor,
  type Limit,
  type Markup,
} from './render.js';

/**
 * The layout of a scheduled report (a message of kind `report`): title, the headline figures,
 * then each section's first rows, node, time and link. Chat platforms get a short version cut
 * to their size limit by showing fewer rows; email gets every row as HTML tables (and the CSV).
 */

/** Rows of each section a chat message shows (the email shows all the report carries). */
export const CHAT_ROWS = 5;

function reportOf(m: AlertMessage): ReportContent {
  if (!m.report) throw new Error(`message ${m.id} is not a report`);
  return m.report;
}

function sectionLines(mk: Markup, s: ReportSection, shown: number): string[] {
  if (s.rows.length === 0 || shown === 0) return [];
  const rows = s.rows.slice(0, shown).map((row, i) => {
    const cells = row
      .slice(1)
      .map((c, j) => (c ? `${s.columns[j + 1] ?? ''} ${c}`.trim() : ''))
      .filter(Boolean);
    return `${i + 1}. ${mk.bold(mk.esc(clip(row[0] ?? '', 120)))}: ${mk.esc(clip(cells.join(' · ')))}`;
  });
  const rest = s.total - rows.length;
  return ['', mk.bold(mk.esc(s.title)), ...rows, ...(rest > 0 ? [moreLine(rest)] : [])];
}

/** A report in a platform's markup, within `opts.limit` (fewer rows per section until it fits). */
export function renderReportMarkup(
  m: AlertMessage,
  flavor: Flavor,
  opts: { limit?: Limit; title?: boolean; rows?: number } = {},
): string {
  const r = reportOf(m);
  const mk = MARKUPS[flavor];
  const head: string[] = [];
  if (opts.title !== false) head.push(mk.heading(clip(m.title), m));
  head.push(...r.lines.map((l) => `${mk.bullet}${mk.bold(mk.esc(l.label))}: ${mk.esc(clip(l.value))}`));
  const foot = ['', `Node: ${mk.esc(clip(m.node, 200))} · Time: ${formatTime(m.at, m.timeZone)}`];
  if (m.url !== null) foot.push(mk.link(m.url));
  const build = (shown: number) =>
    [...head, ...r.sections.flatMap((s) => sectionLines(mk, s, shown)), ...foot].join(mk.newline);
  return fitItems(opts.rows ?? CHAT_ROWS, build, opts.limit);
}

/** Plain text: the email's text part. */
export const renderReportText = (m: AlertMessage): string => renderReportMarkup(m, 'text', { rows: 20 });

const CELL = 'padding:4px 8px;border:1px solid #ddd';

function htmlTable(columns: readonly string[], rows: readonly (readonly string[])[]): string {
  const th = columns.map((c) => `<th style="${CELL};text-align:left">${escAttr(c)}</th>`).join('');
  const tr = rows.map((r) => `<tr>${r.map((c) => `<td style="${CELL}">${escAttr(clip(c))}</td>`).join('')}</tr>`);
  return `<table style="border-collapse:collapse"><tr>${th}</tr>${tr.join('')}</table>`;
}

/** The email's HTML: the figures, then one table per section; every piece of text escaped. */
export function renderReportHtml(m: AlertMessage): string {
  const r = reportOf(m);
  const e = escAttr;
  const sections = r.sections.map((s) => {
    if (s.rows.length === 0) return `<h3>${e(s.title)}</h3><p>None.</p>`;
    const rest = s.total - s.rows.length;
    const more = rest > 0 ? `<p>${moreLine(rest)}${r.attachment ? ' (in the attached CSV)' : ''}</p>` : '';
    return `<h3>${e(s.title)}</h3>${htmlTable(s.columns, s.rows)}${more}`;
  });
  return [
    '<!doctype html><html><body style="font-family:system-ui,sans-serif;font-size:14px">',
    `<h2 style="color:#1565c0">${e(m.title)}</h2>`,
    `<table style="border-collapse:collapse">${r.lines
      .map(
        (l) => `<tr><th style="${CELL};text-align:left">${e(l.label)}</th><td style="${CELL}">${e(l.value)}</td></tr>`,
      )
      .join('')}</table>`,
    ...sections,
    `<p><b>Node:</b> ${e(m.node)} · <b>Time:</b> ${e(formatTime(m.at, m.timeZone))}</p>`,
    m.url === null ? '' : `<p><a href="${e(m.url)}">Open in admin</a> ${e(m.url)}</p>`,
    '</body></html>',
  ]
    .filter(Boolean)
    .join('\n');
}

/** The webhook body of a report: `type` says which (`report.daily`…), `report` is the data. */
export interface ReportWebhookPayload {
  id: string;
  type: `report.${string}`;
  title: string;
  period: { kind: string; name: string; start: string; end: string };
  report: Readonly<Record<string, unknown>>;
  node: string;
  at: string;
  url: string | null;
}

export function reportWebhookPayload(m: AlertMessage): ReportWebhookPayload {
  const r = reportOf(m);
  return {
    id: m.id,
    type: r.type,
    title: m.title,
    period: {
      kind: r.period.kind,
      name: r.period.name,
      start: new Date(r.period.start).toISOString(),
      end: new Date(r.period.end).toISOString(),
    },
    report: r.data,
    node: m.node,
    at: new Date(m.at).toISOString(),
    url: m.url,
  };
}

/** What a chat driver posts: the alert layout, or the report's when the message is one. */
export const renderChat = (
  m: AlertMessage,
  flavor: Exclude<Flavor, 'text'>,
  opts: { limit?: Limit; title?: boolean; extra?: readonly string[] } = {},
): string => (m.report ? renderReportMarkup(m, flavor, opts) : renderMarkdown(m, flavor, opts));
