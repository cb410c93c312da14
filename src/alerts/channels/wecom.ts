import type { ChannelConfig, ChannelDriver } from '../types.js';
import { checkRequired, checkUrl, field, splitList } from './fields.js';
import { expectCode, postJson, secretsOf } from './http.js';
import { renderText } from './render.js';
import { renderChat } from './report.js';

/**
 * WeChat Work (WeCom) group robot. Markdown normally; a P0 that starts firing goes out as a text
 * message instead, because only text messages carry @-mentions (WeCom markdown cannot mention).
 */

const fields = [
  field('webhookUrl', true, true, 'Robot webhook URL: https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…'),
  field('mentionMobiles', false, false, 'Comma-separated mobile numbers @-mentioned when a P0 fires.'),
  field('mentionUsers', false, false, 'Comma-separated WeCom user ids @-mentioned when a P0 fires; @all for everyone.'),
];

// WeCom counts UTF-8 bytes of the content.
const MARKDOWN_MAX = 4096;
const TEXT_MAX = 2048;
// 45009: over the 20 messages a minute of a robot; -1: system busy.
const RETRYABLE = new Set([45009, -1]);

function validate(channel: ChannelConfig): void {
  checkRequired(channel, fields);
  checkUrl(channel, 'webhookUrl', channel.secrets.webhookUrl ?? '');
}

export const wecomDriver: ChannelDriver = {
  type: 'wecom',
  doc: 'WeChat Work group robot (markdown; P0 firing as text with @-mentions).',
  fields,
  defaultRatePerMinute: 20,
  validate,
  async send(channel, message, ctx) {
    validate(channel);
    const mobiles = splitList(channel.settings.mentionMobiles);
    const users = splitList(channel.settings.mentionUsers);
    const page = message.kind === 'firing' && message.rule.severity === 'P0' && mobiles.length + users.length > 0;
    const body = page
      ? {
          msgtype: 'text',
          text: {
            content: renderText(message, { limit: { max: TEXT_MAX, unit: 'bytes' } }),
            mentioned_list: users,
            mentioned_mobile_list: mobiles,
          },
        }
      : {
          msgtype: 'markdown',
          markdown: { content: renderChat(message, 'wecom', { limit: { max: MARKDOWN_MAX, unit: 'bytes' } }) },
        };
    const secrets = secretsOf(channel.secrets);
    const reply = await postJson('wecom', channel.secrets.webhookUrl!.trim(), JSON.stringify(body), ctx);
    expectCode('wecom', reply, { code: ['errcode'], msg: ['errmsg'] }, RETRYABLE, secrets);
    return `wecom accepted the ${body.msgtype} message`;
  },
};
