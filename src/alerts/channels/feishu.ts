import { createHmac } from 'node:crypto';
import type { ChannelConfig, ChannelDriver } from '../types.js';
import { checkRequired, checkUrl, field } from './fields.js';
import { expectCode, postJson, secretsOf } from './http.js';
import { clip, toneOf, type Tone } from './render.js';
import { renderChat } from './report.js';

/**
 * Feishu / Lark custom bot, an interactive card: a coloured header and one markdown element.
 * With a signing secret the body carries `timestamp` (seconds) and `sign`: unusually, the HMAC
 * key is the string `${timestamp}\n${secret}` and the signed data is empty.
 */

const fields = [
  field('webhookUrl', true, true, 'Bot webhook URL: https://open.feishu.cn/open-apis/bot/v2/hook/…'),
  field('secret', false, true, 'Signing secret when the bot has signature verification on.'),
];

// The whole request may be 20 KB; JSON escaping and the card around it need the rest.
const CONTENT_MAX = 16000;
// 11232: frequency limited; 9499 with a 5xx is covered by the status.
const RETRYABLE = new Set([11232]);
const TEMPLATE: Record<Tone, string> = { critical: 'red', warning: 'orange', ok: 'green', info: 'blue' };

export const feishuSign = (secret: string, timestampSeconds: number): string =>
  createHmac('sha256', `${timestampSeconds}\n${secret}`).update('').digest('base64');

function validate(channel: ChannelConfig): void {
  checkRequired(channel, fields);
  checkUrl(channel, 'webhookUrl', channel.secrets.webhookUrl ?? '');
}

export const feishuDriver: ChannelDriver = {
  type: 'feishu',
  doc: 'Feishu / Lark custom bot (interactive card, optional signing secret).',
  fields,
  defaultRatePerMinute: 100,
  validate,
  async send(channel, message, ctx) {
    validate(channel);
    const secret = channel.secrets.secret?.trim();
    const timestamp = Math.floor(ctx.now() / 1000);
    const signature = secret ? { timestamp: String(timestamp), sign: feishuSign(secret, timestamp) } : {};
    const body = {
      ...signature,
      msg_type: 'interactive',
      card: {
        config: { wide_screen_mode: true },
        header: {
          template: TEMPLATE[toneOf(message)],
          title: { tag: 'plain_text', content: clip(message.title, 200) },
        },
        elements: [
          {
            tag: 'markdown',
            content: renderChat(message, 'feishu', { title: false, limit: { max: CONTENT_MAX, unit: 'bytes' } }),
          },
        ],
      },
    };
    const reply = await postJson('feishu', channel.secrets.webhookUrl!.trim(), JSON.stringify(body), ctx);
    // Newer answers say {code, msg}; older ones {StatusCode, StatusMessage}.
    const names = { code: ['code', 'StatusCode'], msg: ['msg', 'StatusMessage'] };
    expectCode('feishu', reply, names, RETRYABLE, secretsOf(channel.secrets));
    return 'feishu accepted the card';
  },
};
