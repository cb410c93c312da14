import { createHmac, timingSafeEqual } from 'node:crypto';
import type { AlertMessage, ChannelConfig, ChannelDriver, MessageKind, RuleCategory, Severity } from '../types.js';
import { checkRequired, checkUrl, field } from './fields.js';
import { answerError, postJson, secretsOf } from './http.js';
import { reportWebhookPayload, type ReportWebhookPayload } from './report.js';

/**
 * Generic JSON webhook, signed the Standard Webhooks way (https://www.standardwebhooks.com):
 * `webhook-signature: v1,<base64 HMAC-SHA256(key, "<webhook-id>.<webhook-timestamp>.<body>")>`.
 * The key is the base64-decoded part of a `whsec_…` secret, or else the secret's UTF-8 bytes.
 * While a secret is rotated, both signatures are sent (space-separated), so a receiver that
 * knows either one accepts. `webhook-id` is the message id, the same on every retry.
 */

export interface WebhookPayload {
  id: string;
  type: `alert.${Exclude<MessageKind, 'report'>}`;
  severity: Severity;
  rule: { id: string; name: string; category: RuleCategory };
  title: string;
  items: {
    subject: string;
    labels: Readonly<Record<string, string>>;
    value: number | null;
    threshold: number | null;
    unit: string;
    startsAt: string;
    endsAt: string | null;
    detail: string | null;
  }[];
  node: string;
  at: string;
  url: string | null;
}

/** The body of an alert message; a report's is its own shape (`report.daily`… with the data). */
export function webhookPayload(m: AlertMessage): WebhookPayload | ReportWebhookPayload {
  if (m.report || m.kind === 'report') return reportWebhookPayload(m);
  return {
    id: m.id,
    type: `alert.${m.kind}`,
    severity: m.rule.severity,
    rule: { id: m.rule.id, name: m.rule.name, category: m.rule.category },
    title: m.title,
    items: m.items.map((i) => ({
      subject: i.subject,
      labels: i.labels,
      value: i.value,
      threshold: i.threshold,
      unit: i.unit,
      startsAt: new Date(i.startsAt).toISOString(),
      endsAt: i.endsAt === null ? null : new Date(i.endsAt).toISOString(),
      detail: i.detail ?? null,
    })),
    node: m.node,
    at: new Date(m.at).toISOString(),
    url: m.url,
  };
}

/** The HMAC key of a secret: `whsec_<base64>` decodes, anything else is taken as UTF-8. */
export const webhookKey = (secret: string): Buffer =>
  secret.startsWith('whsec_') ? Buffer.from(secret.slice(6), 'base64') : Buffer.from(secret, 'utf8');

/** One signature, `v1,<base64>`, over `${id}.${timestampSeconds}.${body}`. */
export function signWebhook(secret: string, id: string, timestampSeconds: number, body: string | Buffer): string {
  const mac = createHmac('sha256', webhookKey(secret)).update(`${id}.${timestampSeconds}.`).update(body);
  return `v1,${mac.digest('base64')}`;
}

export type WebhookVerification = { ok: true } | { ok: false; reason: 'malformed' | 'timestamp' | 'signature' };

/**
 * The receiver's check: `signatureHeader` (one or more `v1,<sig>`) must hold a signature made
 * with `secret`, and `timestamp` (the webhook-timestamp header, seconds) must be within
 * `toleranceSeconds` of `now` (epoch ms) either way, which bounds replays.
 */
export function verifyWebhookSignature(opts: {
  secret: string;
  id: string;
  timestamp: string | number;
  body: string | Buffer;
  signatureHeader: string;
  now?: number;
  toleranceSeconds?: number;
}): WebhookVerification {
  const ts = String(opts.timestamp);
  if (!/^\d{1,12}$/.test(ts) || !opts.id) return { ok: false, reason: 'malformed' };
  const skew = Math.abs((opts.now ?? Date.now()) / 1000 - Number(ts));
  if (skew > (opts.toleranceSeconds ?? 300)) return { ok: false, reason: 'timestamp' };
  const expected = Buffer.from(signWebhook(opts.secret, opts.id, Number(ts), opts.body).slice(3), 'base64');
  for (const sig of opts.signatureHeader.split(' ')) {
    const [version, value] = sig.split(',');
    if (version !== 'v1' || !value) continue;
    const got = Buffer.from(value, 'base64');
    if (got.length === expected.length && timingSafeEqual(got, expected)) return { ok: true };
  }
  return { ok: false, reason: 'signature' };
}

const fields = [
  field('url', true, true, 'Receiver URL (a secret: such URLs often embed a token).'),
  field(
    'secret',
    true,
    true,
    'Signing secret: whsec_<base64> (the decoded bytes are the key) or any string (its UTF-8 bytes).',
  ),
  field('previousSecret', false, true, 'The secret being rotated out; while set, requests carry both signatures.'),
];

const urlOf = (channel: ChannelConfig): string => (channel.secrets.url ?? channel.settings.url ?? '').trim();

function validate(channel: ChannelConfig): void {
  // The URL may also sit in settings (older configs); it is a secret field either way.
  checkRequired({ ...channel, secrets: { ...channel.secrets, url: urlOf(channel) } }, fields);
  checkUrl(channel, 'url', urlOf(channel));
}

export const webhookDriver: ChannelDriver = {
  type: 'webhook',
  doc: 'JSON POST signed like Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature).',
  fields,
  defaultRatePerMinute: 60,
  validate,
  async send(channel, message, ctx) {
    validate(channel);
    const body = JSON.stringify(webhookPayload(message));
    const timestamp = Math.floor(ctx.now() / 1000);
    const signatures = [channel.secrets.secret!, channel.secrets.previousSecret]
      .filter((s): s is string => !!s?.trim())
      .map((s) => signWebhook(s.trim(), message.id, timestamp, body));
    const reply = await postJson('webhook', urlOf(channel), body, ctx, {
      'webhook-id': message.id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signatures.join(' '),
    });
    if (reply.status >= 200 && reply.status < 300) return `webhook answered HTTP ${reply.status}`;
    throw answerError('webhook', reply.status, reply.text.slice(0, 300), {
      secrets: secretsOf({ ...channel.secrets, url: urlOf(channel) }),
    });
  },
};
