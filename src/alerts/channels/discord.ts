import type { ChannelConfig, ChannelDriver } from '../types.js';
import { checkRequired, checkUrl, field } from './fields.js';
import { answerError, postJson, secretsOf } from './http.js';
import { KIND_LABEL, clip, toneOf, type Tone } from './render.js';
import { renderChat } from './report.js';

/**
 * Discord webhook, one embed. `?wait=true` makes Discord answer 200 with the message once it is
 * posted rather than 204 before, so a failure is reported to us. Mentions are switched off:
 * nothing in an alert may ping @everyone.
 */

const fields = [field('webhookUrl', true, true, 'Webhook URL: https://discord.com/api/webhooks/<id>/<token>')];

// Discord's embed limits: title 256, description 4096, field value 1024, all text together 6000.
const TITLE_MAX = 256;
const DESCRIPTION_MAX = 4096;
const EMBED_MAX = 6000;
const COLOR: Record<Tone, number> = { critical: 0xd32f2f, warning: 0xf57c00, ok: 0x388e3c, info: 0x1976d2 };

function validate(channel: ChannelConfig): void {
  checkRequired(channel, fields);
  checkUrl(channel, 'webhookUrl', channel.secrets.webhookUrl ?? '');
}

export const discordDriver: ChannelDriver = {
  type: 'discord',
  doc: 'Discord webhook (one embed, mentions disabled).',
  fields,
  defaultRatePerMinute: 30,
  validate,
  async send(channel, message, ctx) {
    validate(channel);
    const title = clip(message.title, TITLE_MAX);
    const node = { name: 'Node', value: clip(message.node, 1000), inline: true };
    const period = message.report?.period;
    const embedFields = period
      ? [{ name: 'Period', value: clip(`${period.kind} ${period.name}`, 1000), inline: true }, node]
      : [
          { name: 'Rule', value: clip(`${message.rule.name} (${message.rule.id})`, 1000), inline: true },
          { name: 'Severity', value: `${message.rule.severity} · ${KIND_LABEL[message.kind]}`, inline: true },
          node,
        ];
    const used = title.length + embedFields.reduce((n, f) => n + f.name.length + f.value.length, 0);
    const max = Math.min(DESCRIPTION_MAX, EMBED_MAX - used);
    const description = renderChat(message, 'discord', { title: false, limit: { max, unit: 'chars' } });
    const embed = {
      title,
      description,
      color: COLOR[toneOf(message)],
      fields: embedFields,
      timestamp: new Date(message.at).toISOString(),
      ...(message.url === null ? {} : { url: message.url }),
    };
    const url = new URL(channel.secrets.webhookUrl!.trim());
    url.searchParams.set('wait', 'true');
    const body = { embeds: [embed], allowed_mentions: { parse: [] } };
    const reply = await postJson('discord', url.href, JSON.stringify(body), ctx);
    if (reply.status >= 200 && reply.status < 300) return 'discord posted the embed';
    const json = (reply.json ?? {}) as { message?: unknown; code?: unknown; retry_after?: unknown };
    const said = typeof json.message === 'string' ? json.message : reply.text.slice(0, 300);
    const after = typeof json.retry_after === 'number' ? ` (retry after ${json.retry_after} s)` : '';
    throw answerError('discord', reply.status, `${said}${after}`, {
      code: typeof json.code === 'number' ? `code ${json.code}` : undefined,
      secrets: secretsOf(channel.secrets),
    });
  },
};
