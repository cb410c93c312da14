import type { ChannelConfig, ChannelDriver } from '../types.js';
import { check, checkRequired, checkUrl, field } from './fields.js';
import { answerError, postJson, retryableStatus, secretsOf } from './http.js';
import { renderChat } from './report.js';

/**
 * Telegram bot sendMessage with parse_mode HTML (escaping only &, < and > is simpler and safer
 * than MarkdownV2's long list). The token is part of the URL, so no error may show the URL.
 */

const fields = [
  field('botToken', true, true, 'Bot token from @BotFather: 123456:ABC…'),
  field('chatId', true, false, 'Chat id (-100… for groups and channels) or @channelusername.'),
  field('apiBase', false, false, 'Bot API base URL; default https://api.telegram.org.'),
];

// 4096 characters after entity parsing; counting the markup too keeps us under it.
const TEXT_MAX = 4096;

function validate(channel: ChannelConfig): void {
  checkRequired(channel, fields);
  check(channel, /^\d+:[\w-]+$/.test(channel.secrets.botToken!.trim()), 'botToken is not a bot token');
  check(channel, /^(-?\d+|@\w{4,})$/.test(channel.settings.chatId!.trim()), 'chatId is not a chat id or @username');
  if (channel.settings.apiBase) checkUrl(channel, 'apiBase', channel.settings.apiBase);
}

export const telegramDriver: ChannelDriver = {
  type: 'telegram',
  doc: 'Telegram bot message (HTML).',
  fields,
  defaultRatePerMinute: 20,
  validate,
  async send(channel, message, ctx) {
    validate(channel);
    const base = (channel.settings.apiBase?.trim() || 'https://api.telegram.org').replace(/\/+$/, '');
    const body = {
      chat_id: channel.settings.chatId!.trim(),
      text: renderChat(message, 'telegram', { limit: { max: TEXT_MAX, unit: 'chars' } }),
      parse_mode: 'HTML',
      disable_web_page_preview: true,
    };
    const url = `${base}/bot${channel.secrets.botToken!.trim()}/sendMessage`;
    const reply = await postJson('telegram', url, JSON.stringify(body), ctx);
    const json = (reply.json ?? {}) as {
      ok?: unknown;
      error_code?: unknown;
      description?: unknown;
      result?: { message_id?: unknown };
      parameters?: { retry_after?: unknown };
    };
    if (reply.status >= 200 && reply.status < 300 && json.ok === true) {
      return `telegram sent message ${String(json.result?.message_id ?? '')}`.trim();
    }
    const said = typeof json.description === 'string' ? json.description : reply.text.slice(0, 300);
    const after = json.parameters?.retry_after;
    const code = typeof json.error_code === 'number' ? json.error_code : undefined;
    throw answerError(
      'telegram',
      reply.status,
      `${said}${typeof after === 'number' ? ` (retry after ${after} s)` : ''}`,
      {
        code: code === undefined ? undefined : `error_code ${code}`,
        retryable: retryableStatus(reply.status) || (code !== undefined && retryableStatus(code)),
        secrets: secretsOf(channel.secrets),
      },
    );
  },
};
