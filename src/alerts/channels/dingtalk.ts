import { createHmac } from 'node:crypto';
import type { ChannelConfig, ChannelDriver } from '../types.js';
import { checkRequired, checkUrl, field, splitList } from './fields.js';
import { expectCode, postJson, secretsOf } from './http.js';
import { clip } from './render.js';
import { renderChat } from './report.js';

/**
 * DingTalk group robot, markdown. With a signing secret ("加签") every request carries
 * `timestamp` (ms) and `sign` = base64(HMAC-SHA256(key = secret, data = `${timestamp}\n${secret}`))
 * in the query; DingTalk refuses a timestamp more than an hour off.
 */

const fields = [
  field('webhookUrl', true, true, 'Robot webhook URL: https://oapi.dingtalk.com/robot/send?access_token=…'),
  field('secret', false, true, 'Signing secret (SEC…) when the robot uses signed requests.'),
  field('mentionMobiles', false, false, 'Comma-separated mobile numbers @-mentioned when a P0 fires.'),
  field('mentionAll', false, false, '"true" to @-mention everyone when a P0 fires.'),
];

const MARKDOWN_MAX = 20000;
// 130101: sending too fast; -1: system busy.
const RETRYABLE = new Set([130101, -1]);

export const dingtalkSign = (secret: string, timestamp: number): string =>
  createHmac('sha256', secret).update(`${timestamp}\n${secret}`).digest('base64');

function validate(channel: ChannelConfig): void {
  checkRequired(channel, fields);
  checkUrl(channel, 'webhookUrl', channel.secrets.webhookUrl ?? '');
}

export const dingtalkDriver: ChannelDriver = {
  type: 'dingtalk',
  doc: 'DingTalk group robot (markdown, optional signing secret, @-mentions on P0 firing).',
  fields,
  defaultRatePerMinute: 20,
  validate,
  async send(channel, message, ctx) {
    validate(channel);
    const url = new URL(channel.secrets.webhookUrl!.trim());
    const secret = channel.secrets.secret?.trim();
    if (secret) {
      const timestamp = ctx.now();
      // searchParams percent-encodes the base64 (+, /, =) as DingTalk requires.
      url.searchParams.set('timestamp', String(timestamp));
      url.searchParams.set('sign', dingtalkSign(secret, timestamp));
    }
    const page = message.kind === 'firing' && message.rule.severity === 'P0';
    const mobiles = page ? splitList(channel.settings.mentionMobiles) : [];
    const isAtAll = page && channel.settings.mentionAll === 'true';
    // DingTalk only notifies a mobile that is also written as @mobile in the text.
    const extra = mobiles.length ? [mobiles.map((m) => `@${m}`).join(' ')] : [];
    const body = {
      msgtype: 'markdown',
      markdown: {
        title: clip(message.title, 100),
        text: renderChat(message, 'dingtalk', { limit: { max: MARKDOWN_MAX, unit: 'bytes' }, extra }),
      },
      at: { atMobiles: mobiles, isAtAll },
    };
    const reply = await postJson('dingtalk', url.href, JSON.stringify(body), ctx);
    expectCode('dingtalk', reply, { code: ['errcode'], msg: ['errmsg'] }, RETRYABLE, secretsOf(channel.secrets));
    return 'dingtalk accepted the markdown message';
  },
};
