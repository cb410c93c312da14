import type { ChannelConfig, ChannelDriver } from '../types.js';
import { checkRequired, checkUrl, field } from './fields.js';
import { answerError, postJson, secretsOf } from './http.js';
import { clip } from './render.js';
import { renderChat } from './report.js';

/**
 * Slack incoming webhook: a header block with the title and one mrkdwn section with the rest;
 * `text` is the fallback notifications show. Slack answers "ok", or a 4xx with a short code
 * such as `invalid_payload` or `channel_is_archived`.
 */

const fields = [field('webhookUrl', true, true, 'Incoming webhook URL: https://hooks.slack.com/services/…')];

// Slack's limits: header plain_text 150 characters, section text 3000.
const HEADER_MAX = 150;
const SECTION_MAX = 3000;

function validate(channel: ChannelConfig): void {
  checkRequired(channel, fields);
  checkUrl(channel, 'webhookUrl', channel.secrets.webhookUrl ?? '');
}

export const slackDriver: ChannelDriver = {
  type: 'slack',
  doc: 'Slack incoming webhook (Block Kit header and mrkdwn section).',
  fields,
  defaultRatePerMinute: 60,
  validate,
  async send(channel, message, ctx) {
    validate(channel);
    const section = renderChat(message, 'slack', { title: false, limit: { max: SECTION_MAX, unit: 'chars' } });
    const body = {
      text: clip(message.title, 500),
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: clip(message.title, HEADER_MAX), emoji: true } },
        { type: 'section', text: { type: 'mrkdwn', text: section } },
      ],
    };
    const reply = await postJson('slack', channel.secrets.webhookUrl!.trim(), JSON.stringify(body), ctx);
    if (reply.status < 200 || reply.status >= 300) {
      throw answerError('slack', reply.status, reply.text.slice(0, 300), { secrets: secretsOf(channel.secrets) });
    }
    return 'slack accepted the message';
  },
};
