import nodemailer, { type NodemailerError, type Transporter } from 'nodemailer';
import { ChannelError, type ChannelConfig, type ChannelDriver } from '../types.js';
import { check, checkRequired, field, splitList } from './fields.js';
import { scrub, secretsOf } from './http.js';
import { renderHtml, renderText } from './render.js';
import { renderReportHtml, renderReportText } from './report.js';

/**
 * Email over SMTP: one multipart message (text and HTML) to every recipient. SMTP's own reply
 * classes decide retrying: 4xx is transient, 5xx permanent (a wrong password is 535).
 */

const fields = [
  field('host', true, false, 'SMTP server host name.'),
  field('port', false, false, 'SMTP port; default 465 for tls, 587 for starttls, 25 for none.'),
  field('secure', false, false, 'tls (implicit TLS), starttls (required, the default) or none.'),
  field('username', false, false, 'SMTP user name; no authentication when empty.'),
  field('from', true, false, 'Sender address, e.g. "Relay alerts <alerts@example.com>".'),
  field('to', true, false, 'Comma-separated recipient addresses.'),
  field('rejectUnauthorized', false, false, '"false" to accept a self-signed server certificate.'),
  field('password', false, true, 'SMTP password.'),
];

const MODES = ['tls', 'starttls', 'none'] as const;
const DEFAULT_PORT: Record<(typeof MODES)[number], number> = { tls: 465, starttls: 587, none: 25 };
// Failures of the connection rather than of the message: another attempt may succeed.
const TRANSIENT = new Set(['ECONNECTION', 'ESOCKET', 'ETIMEDOUT', 'EDNS', 'EPROXY']);
// A certificate the server will keep presenting (expired, self-signed, wrong name) needs a settings change.
const CERTIFICATE = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/;

function validate(channel: ChannelConfig): void {
  checkRequired(channel, fields);
  const s = channel.settings;
  check(channel, !s.secure || (MODES as readonly string[]).includes(s.secure), 'secure must be tls, starttls or none');
  check(channel, !s.port || (/^\d+$/.test(s.port) && +s.port > 0 && +s.port < 65536), 'port must be 1-65535');
  check(
    channel,
    splitList(s.to).every((a) => a.includes('@')),
    'to must list email addresses',
  );
  check(channel, (s.from ?? '').includes('@'), 'from must be an email address');
  check(channel, !s.username || !!channel.secrets.password, 'password is required with a username');
}

// One transport per channel version: settings changes make a new one, the old one is closed.
const transports = new Map<string, { version: number; transport: Transporter }>();

function transportFor(channel: ChannelConfig): Transporter {
  const cached = transports.get(channel.id);
  if (cached?.version === channel.updatedAt) return cached.transport;
  cached?.transport.close();
  const s = channel.settings;
  const mode = (s.secure || 'starttls') as (typeof MODES)[number];
  const transport = nodemailer.createTransport({
    host: s.host!.trim(),
    port: s.port ? Number(s.port) : DEFAULT_PORT[mode],
    secure: mode === 'tls',
    requireTLS: mode === 'starttls',
    ignoreTLS: mode === 'none',
    auth: s.username ? { user: s.username, pass: channel.secrets.password ?? '' } : undefined,
    tls: { rejectUnauthorized: s.rejectUnauthorized !== 'false' },
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  });
  transports.set(channel.id, { version: channel.updatedAt, transport });
  return transport;
}

function smtpError(err: unknown, aborted: boolean, secrets: readonly string[]): ChannelError {
  const e = err as NodemailerError;
  if (aborted || e.code === 'EABORT') return new ChannelError('email: the SMTP server did not finish in time', true);
  const code = e.responseCode;
  const certificate = CERTIFICATE.test(e.originalCode ?? '');
  const retryable =
    code !== undefined
      ? e.permanent === false || (code >= 400 && code < 500)
      : !certificate && TRANSIENT.has(e.code ?? '');
  const said = scrub(e.response ?? e.message ?? '', secrets);
  return new ChannelError(`email: SMTP ${e.code ?? 'error'}${said ? `: ${said}` : ''}`, retryable, code);
}

export const emailDriver: ChannelDriver = {
  type: 'email',
  doc: 'Email over SMTP (text and HTML; a report also attaches its CSV).',
  fields,
  defaultRatePerMinute: 30,
  validate,
  async send(channel, message, ctx) {
    validate(channel);
    const s = channel.settings;
    const secrets = secretsOf(channel.secrets);
    try {
      const info = await transportFor(channel).sendMail({
        from: s.from!.trim(),
        to: splitList(s.to),
        subject: message.title.replace(/\s+/g, ' '),
        text: message.report ? renderReportText(message) : renderText(message, { description: true, maxItems: 200 }),
        html: message.report ? renderReportHtml(message) : renderHtml(message),
        headers: { 'X-Alert-Id': message.id, 'X-Alert-Rule': message.rule.id },
        ...(message.report?.attachment ? { attachments: [message.report.attachment] } : {}),
        signal: ctx.signal,
      });
      const accepted = Array.isArray(info.accepted) ? info.accepted.length : 0;
      const rejected = Array.isArray(info.rejected) ? info.rejected.length : 0;
      return `email accepted for ${accepted} recipient(s)${rejected ? `, refused for ${rejected}` : ''}`;
    } catch (err) {
      throw smtpError(err, ctx.signal.aborted, secrets);
    }
  },
};
