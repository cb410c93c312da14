/**
 * The vocabulary of the alert engine: severities, what one notification says, and what a channel
 * is. Rules and their evaluation build messages; channels only render and send them.
 */

/** P0 pages someone now; P3 is for the record. `critical`, `warning` and `info` are P0, P2 and P3. */
export const SEVERITIES = ['P0', 'P1', 'P2', 'P3'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const SEVERITY_ALIASES: Readonly<Record<string, Severity>> = { critical: 'P0', warning: 'P2', info: 'P3' };

/** Lower rank = more severe. */
export const severityRank = (s: Severity): number => SEVERITIES.indexOf(s);

/** Whether `s` is at least as severe as `min`. */
export const atLeast = (s: Severity, min: Severity): boolean => severityRank(s) <= severityRank(min);

export type RuleCategory = 'performance' | 'business' | 'system' | 'security';

/** One subject of a notification: an account, a key, a node, a pool… */
export interface AlertItem {
  /** What it is about, for people: `claude account "team-a" (acc_…)`, `node relay-2`. */
  subject: string;
  /** The scope labels of the alert (platform, accountId, group, keyId, node, address…). */
  labels: Readonly<Record<string, string>>;
  /** The measured value and the threshold it crossed (null for state rules: "is unauthorized"). */
  value: number | null;
  threshold: number | null;
  /** How to print value and threshold: `%` means a ratio printed as a percentage. */
  unit: '' | '%' | 's' | 'ms' | 'USD' | 'bytes' | 'tokens';
  /** Epoch ms: when it started firing, and when it resolved (null while firing). */
  startsAt: number;
  endsAt: number | null;
  /** A short, secret-free explanation (`HTTP 401`, `cooling until 10:40 UTC`). */
  detail?: string;
}

/** `report`: a scheduled summary (see ReportContent), not an alert; it goes out through the same outbox. */
export type MessageKind = 'firing' | 'resolved' | 'reminder' | 'test' | 'report';

/**
 * One notification as channels receive it: one rule, one kind, one or more subjects (grouped
 * within the rule's group window). Never carries a credential, a relay key or upstream error text.
 */
export interface AlertMessage {
  /** Stable id of this notification: the same on every retry (webhook-id; receivers dedup on it). */
  id: string;
  kind: MessageKind;
  rule: { id: string; name: string; severity: Severity; category: RuleCategory; description: string };
  /** One line: `[P1 FIRING] 3 claude accounts unauthorized`. */
  title: string;
  items: readonly AlertItem[];
  /** The node whose engine sent it. */
  node: string;
  /** Epoch ms. */
  at: number;
  /** A link to the admin page of this alert when PUBLIC_URL is set, else null. */
  url: string | null;
  /** IANA zone used to print times (STATS_TIMEZONE). */
  timeZone: string;
  /** Present on `report` messages only: what the channels lay out instead of the items (which are empty). */
  report?: ReportContent;
}

/**
 * A scheduled report as channels receive it. It is built above the alert engine (the jobs, from
 * the reports) and arrives here as worded data: channels lay it out, never compute it.
 */
export interface ReportContent {
  /** The webhook's `type`: `report.daily`, `report.weekly`, `report.monthly`. */
  type: `report.${string}`;
  /** The period reported on: its name (`2026-12-02`, the week's Monday, `2026-11`) and epoch ms [start, end). */
  period: { kind: string; name: string; start: number; end: number };
  /** The headline figures, worded: `{label: 'Cost', value: '$12.34 (+3.1% on 2026-12-01)'}`. */
  lines: readonly { label: string; value: string }[];
  /** Tables (top keys, accounts, models; incidents); chat channels show the first rows of each. */
  sections: readonly ReportSection[];
  /** The report as data: the webhook's `report` field (money as integer picodollars with USD beside). */
  data: Readonly<Record<string, unknown>>;
  /** A file for the channels that carry one (email): the CSV of the period's top rows. */
  attachment?: { filename: string; contentType: string; content: string };
}

export interface ReportSection {
  title: string;
  columns: readonly string[];
  /** Worded cells, in column order; the first names the row. */
  rows: readonly (readonly string[])[];
  /** Rows there were in all (more than `rows` when the list was cut). */
  total: number;
}

export const CHANNEL_TYPES = [
  'email',
  'wecom',
  'dingtalk',
  'feishu',
  'slack',
  'discord',
  'telegram',
  'webhook',
  'console',
] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];

/** A configured channel. `secrets` are stored encrypted and never shown (write-only in the API). */
export interface ChannelConfig {
  id: string;
  type: ChannelType;
  name: string;
  enabled: boolean;
  /** Only messages at least this severe go out here. */
  minSeverity: Severity;
  /** Most messages per minute (deployment-wide); more wait for the next minute. 0 = the type's default. */
  ratePerMinute: number;
  /** Plain settings of the type (SMTP host, recipients, mentioned mobiles…). */
  settings: Readonly<Record<string, string>>;
  /** Secret settings (webhook URLs with their keys, signing secrets, SMTP password, bot token). */
  secrets: Readonly<Record<string, string>>;
  createdAt: number;
  updatedAt: number;
}

/** A field a channel type takes. */
export interface ChannelField {
  name: string;
  required: boolean;
  secret: boolean;
  doc: string;
}

/** A failed send. `retryable`: worth trying again later (network, 5xx, 429); not for a bad request. */
export class ChannelError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'ChannelError';
  }
}

/** What a channel type does: checks its settings and sends one message. */
export interface ChannelDriver {
  readonly type: ChannelType;
  readonly doc: string;
  readonly fields: readonly ChannelField[];
  /** Messages per minute when the channel does not set its own (WeChat Work: 20 per robot). */
  readonly defaultRatePerMinute: number;
  /** Throws ChannelError (not retryable) if the settings cannot work. */
  validate?(channel: ChannelConfig): void;
  /** Sends; resolves with a short, secret-free receipt, or throws ChannelError. */
  send(channel: ChannelConfig, message: AlertMessage, ctx: SendContext): Promise<string>;
}

export interface SendContext {
  /** Epoch ms (for signatures with timestamps). */
  now(): number;
  /** Abort after the send timeout. */
  signal: AbortSignal;
}
