import { atLeast, type AlertItem, type AlertMessage, type MessageKind } from '../types.js';

/**
 * One layout for every channel: title, the rule line, one line per subject, then node, time and
 * link. Each platform gets it in its own markup, cut to its size limit by dropping whole items
 * (with "… and N more") rather than by cutting text.
 */

export const KIND_LABEL: Readonly<Record<MessageKind, string>> = {
  firing: 'FIRING',
  resolved: 'RESOLVED',
  reminder: 'REMINDER',
  test: 'TEST',
  report: 'REPORT',
};

/** The colour family of a message: headers, embeds and cards pick their colour from it. */
export type Tone = 'critical' | 'warning' | 'ok' | 'info';
export function toneOf(m: AlertMessage): Tone {
  if (m.kind === 'resolved') return 'ok';
  if (m.kind === 'test' || m.kind === 'report') return 'info';
  return atLeast(m.rule.severity, 'P1') ? 'critical' : 'warning';
}

/** A platform's size limit: WeCom and DingTalk count UTF-8 bytes, the others characters. */
export interface Limit {
  max: number;
  unit: 'bytes' | 'chars';
}

/** Characters as UTF-16 code units: what JS, Slack, Discord and Telegram count (never fewer than code points). */
export const measure = (s: string, unit: Limit['unit']): number => (unit === 'bytes' ? Buffer.byteLength(s) : s.length);

const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' });

/** `s` cut to fit `limit` on a grapheme boundary, ending with "…" when cut. */
export function truncate(s: string, limit: Limit): string {
  if (measure(s, limit.unit) <= limit.max) return s;
  const ellipsis = measure('…', limit.unit) <= limit.max ? '…' : '';
  const budget = limit.max - measure(ellipsis, limit.unit);
  let out = '';
  let used = 0;
  for (const { segment } of graphemes.segment(s)) {
    const size = measure(segment, limit.unit);
    if (used + size > budget) break;
    out += segment;
    used += size;
  }
  return out + ellipsis;
}

/** User text on one line and of sane length, so one long subject cannot crowd out the others. */
export const clip = (s: string, max = 300): string => truncate(s.replace(/\s+/g, ' ').trim(), { max, unit: 'chars' });

const numberFormats = new Map<string, Intl.NumberFormat>();
function num(v: number, maxDigits: number, minDigits = 0): string {
  const key = `${maxDigits}/${minDigits}`;
  let f = numberFormats.get(key);
  if (!f) {
    f = new Intl.NumberFormat('en-US', { maximumFractionDigits: maxDigits, minimumFractionDigits: minDigits });
    numberFormats.set(key, f);
  }
  return f.format(v);
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** A value as people read it: `%` is a ratio 0..1, bytes are binary multiples. */
export function formatValue(value: number, unit: AlertItem['unit']): string {
  if (!Number.isFinite(value)) return String(value);
  switch (unit) {
    case '%':
      return `${num(value * 100, 1)}%`;
    case 's':
      return `${num(value, 2)} s`;
    case 'ms':
      return `${num(value, 0)} ms`;
    case 'USD':
      return `${value < 0 ? '-' : ''}$${num(Math.abs(value), 2, 2)}`;
    case 'tokens':
      return `${num(value, 0)} tokens`;
    case 'bytes': {
      let v = Math.abs(value);
      let i = 0;
      while (v >= 1024 && i < BYTE_UNITS.length - 1) {
        v /= 1024;
        i++;
      }
      return `${value < 0 ? '-' : ''}${num(v, i === 0 ? 0 : 1)} ${BYTE_UNITS[i]}`;
    }
    default:
      return num(value, 2);
  }
}

const timeFormats = new Map<string, Intl.DateTimeFormat>();
function timeFormat(timeZone: string): Intl.DateTimeFormat {
  let f = timeFormats.get(timeZone);
  if (!f) {
    const opts: Intl.DateTimeFormatOptions = {
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'longOffset',
    };
    try {
      f = new Intl.DateTimeFormat('en-US', { ...opts, timeZone });
    } catch {
      // An unknown zone must not cost the notification: print UTC, which the offset makes explicit.
      f = new Intl.DateTimeFormat('en-US', { ...opts, timeZone: 'UTC' });
    }
    timeFormats.set(timeZone, f);
  }
  return f;
}

/** `2025-03-01 18:40:05 GMT+08:00`: wall time in `timeZone` with its offset. */
export function formatTime(ms: number, timeZone: string): string {
  const p: Partial<Record<Intl.DateTimeFormatPartTypes, string>> = {};
  for (const part of timeFormat(timeZone).formatToParts(ms)) p[part.type] = part.value;
  const offset = p.timeZoneName === 'GMT' ? 'GMT+00:00' : p.timeZoneName;
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second} ${offset}`;
}

/** The markups the layout is rendered in. `text` is plain; `telegram` is Telegram's HTML subset. */
export type Flavor = 'text' | 'wecom' | 'dingtalk' | 'feishu' | 'slack' | 'discord' | 'telegram';

export interface Markup {
  esc(s: string): string;
  bold(s: string): string;
  /** Takes raw text: code spans escape differently (Discord shows backslashes in them). */
  code(s: string): string;
  link(url: string): string;
  /** The title line; `t` is the clipped title. */
  heading(t: string, m: AlertMessage): string;
  bullet: string;
  /** DingTalk drops single newlines; a markdown hard break keeps the lines apart. */
  newline: string;
}

const escHtml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
export const escAttr = (s: string): string => escHtml(s).replace(/"/g, '&quot;').replace(/'/g, '&#39;');
const mdBold = (s: string): string => `**${s}**`;
const mdLink = (url: string): string => `[Open in admin](${url.replace(/[()\s]/g, encodeURIComponent)})`;
const WECOM_COLOR: Record<Tone, string> = { critical: 'warning', warning: 'warning', ok: 'info', info: 'comment' };

export const MARKUPS: Record<Flavor, Markup> = {
  text: {
    esc: (s) => s,
    bold: (s) => s,
    code: (s) => s,
    link: (url) => `Link: ${url}`,
    heading: (t) => t,
    bullet: '- ',
    newline: '\n',
  },
  wecom: {
    // `<@userid>` would mention someone; nothing from an alert should.
    esc: (s) => s.replace(/<@/g, '< @'),
    bold: mdBold,
    code: (s) => s.replace(/<@/g, '< @'),
    link: mdLink,
    heading: (t, m) => `## <font color="${WECOM_COLOR[toneOf(m)]}">${t.replace(/<@/g, '< @')}</font>`,
    bullet: '- ',
    newline: '\n',
  },
  dingtalk: {
    esc: (s) => s,
    bold: mdBold,
    code: (s) => s,
    link: mdLink,
    heading: (t) => `### ${t}`,
    bullet: '- ',
    newline: '  \n',
  },
  feishu: {
    // Card markdown reads `<at id=all>` and `<font>` tags; entities keep alert text literal.
    esc: escHtml,
    bold: mdBold,
    code: escHtml,
    link: mdLink,
    heading: (t) => `**${escHtml(t)}**`,
    bullet: '- ',
    newline: '\n',
  },
  slack: {
    esc: escHtml,
    bold: (s) => `*${s}*`,
    code: (s) => `\`${escHtml(s).replace(/`/g, "'")}\``,
    link: (url) => `<${url.replace(/[|>]/g, encodeURIComponent)}|Open in admin>`,
    heading: (t) => `*${escHtml(t)}*`,
    bullet: '• ',
    newline: '\n',
  },
  discord: {
    esc: (s) => s.replace(/[\\*_~`|[\]]/g, '\\$&'),
    bold: mdBold,
    code: (s) => `\`${s.replace(/`/g, "'")}\``,
    link: mdLink,
    heading: (t) => `**${t}**`,
    bullet: '- ',
    newline: '\n',
  },
  telegram: {
    esc: escHtml,
    bold: (s) => `<b>${s}</b>`,
    code: (s) => `<code>${escHtml(s)}</code>`,
    link: (url) => `<a href="${escAttr(url)}">Open in admin</a>`,
    heading: (t) => `<b>${escHtml(t)}</b>`,
    bullet: '• ',
    newline: '\n',
  },
};

/** `value 85.3% (threshold 80%)`, or '' for a state rule without numbers. */
export function valuePhrase(item: AlertItem): string {
  const t = item.threshold === null ? '' : `threshold ${formatValue(item.threshold, item.unit)}`;
  if (item.value === null) return t;
  return `value ${formatValue(item.value, item.unit)}${t ? ` (${t})` : ''}`;
}

function itemLine(mk: Markup, item: AlertItem, timeZone: string): string {
  const parts = [valuePhrase(item), `since ${formatTime(item.startsAt, timeZone)}`];
  if (item.endsAt !== null) parts.push(`resolved ${formatTime(item.endsAt, timeZone)}`);
  if (item.detail) parts.push(mk.esc(clip(item.detail)));
  return `${mk.bullet}${mk.bold(mk.esc(clip(item.subject)))}: ${parts.filter(Boolean).join(' · ')}`;
}

export const moreLine = (n: number): string => `… and ${n} more`;

/** The largest prefix of items whose rendering fits, found by bisection (rendering grows with items). */
export function fitItems(total: number, build: (shown: number) => string, limit?: Limit): string {
  const fits = (s: string) => !limit || measure(s, limit.unit) <= limit.max;
  const all = build(total);
  if (fits(all) || !limit) return all;
  let lo = 0;
  let hi = total - 1;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(build(mid))) lo = mid;
    else hi = mid - 1;
  }
  return truncate(build(lo), limit);
}

export interface RenderOptions {
  limit?: Limit;
  /** Leave out the title where the platform shows it itself (card header, embed title). */
  title?: boolean;
  /** Lines appended last and counted in the limit (DingTalk's `@mobile` mentions). */
  extra?: readonly string[];
  /** Most items listed even without a limit (email). */
  maxItems?: number;
  /** Print the rule's description under the rule line. */
  description?: boolean;
}

/** The message in `flavor` markup, within `opts.limit`. */
export function renderMarkup(m: AlertMessage, flavor: Flavor, opts: RenderOptions = {}): string {
  const mk = MARKUPS[flavor];
  const { rule } = m;
  const head: string[] = [];
  if (opts.title !== false) head.push(mk.heading(clip(m.title), m));
  head.push(
    `Rule: ${mk.bold(mk.esc(clip(rule.name, 200)))} (${mk.code(rule.id)}) · ${rule.severity} · ${KIND_LABEL[m.kind]} · ${rule.category}`,
  );
  if (opts.description && rule.description) head.push(mk.esc(clip(rule.description, 500)));
  const lines = m.items.slice(0, opts.maxItems ?? m.items.length).map((item) => itemLine(mk, item, m.timeZone));
  const foot = [`Node: ${mk.esc(clip(m.node, 200))} · Time: ${formatTime(m.at, m.timeZone)}`];
  if (m.url !== null) foot.push(mk.link(m.url));
  foot.push(...(opts.extra ?? []));
  const build = (shown: number) => {
    const rest = m.items.length - shown;
    return [...head, ...lines.slice(0, shown), ...(rest > 0 ? [moreLine(rest)] : []), ...foot].join(mk.newline);
  };
  return fitItems(lines.length, build, opts.limit);
}

/** Plain text: email's text part, WeCom's text message, logs. */
export const renderText = (m: AlertMessage, opts: RenderOptions = {}): string => renderMarkup(m, 'text', opts);

/** Markdown (or Slack mrkdwn, or Telegram HTML) for a chat platform. */
export const renderMarkdown = (m: AlertMessage, flavor: Exclude<Flavor, 'text'>, opts: RenderOptions = {}): string =>
  renderMarkup(m, flavor, opts);

const HTML_COLOR: Record<Tone, string> = { critical: '#c62828', warning: '#ef6c00', ok: '#2e7d32', info: '#1565c0' };

/** An HTML email body; every piece of alert text is escaped. */
export function renderHtml(m: AlertMessage, maxItems = 200): string {
  const e = escAttr;
  const { rule } = m;
  const rows = m.items.slice(0, maxItems).map((item) => {
    const cells = [
      item.subject,
      item.value === null ? '' : formatValue(item.value, item.unit),
      item.threshold === null ? '' : formatValue(item.threshold, item.unit),
      formatTime(item.startsAt, m.timeZone),
      item.endsAt === null ? '' : formatTime(item.endsAt, m.timeZone),
      item.detail ?? '',
    ];
    return `<tr>${cells.map((c) => `<td style="padding:4px 8px;border:1px solid #ddd">${e(clip(c))}</td>`).join('')}</tr>`;
  });
  const rest = m.items.length - rows.length;
  const th = ['Subject', 'Value', 'Threshold', 'Since', 'Resolved', 'Detail']
    .map((h) => `<th style="padding:4px 8px;border:1px solid #ddd;text-align:left">${h}</th>`)
    .join('');
  return [
    '<!doctype html><html><body style="font-family:system-ui,sans-serif;font-size:14px">',
    `<h2 style="color:${HTML_COLOR[toneOf(m)]}">${e(m.title)}</h2>`,
    `<p><b>Rule:</b> ${e(rule.name)} (<code>${e(rule.id)}</code>) · <b>Severity:</b> ${rule.severity} · <b>Kind:</b> ${KIND_LABEL[m.kind]} · ${e(rule.category)}</p>`,
    rule.description ? `<p>${e(rule.description)}</p>` : '',
    `<table style="border-collapse:collapse"><tr>${th}</tr>${rows.join('')}</table>`,
    rest > 0 ? `<p>${moreLine(rest)}</p>` : '',
    `<p><b>Node:</b> ${e(m.node)} · <b>Time:</b> ${e(formatTime(m.at, m.timeZone))}</p>`,
    m.url === null ? '' : `<p><a href="${escAttr(m.url)}">Open in admin</a> ${e(m.url)}</p>`,
    '</body></html>',
  ]
    .filter(Boolean)
    .join('\n');
}
