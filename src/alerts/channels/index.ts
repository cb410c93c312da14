import type { ChannelDriver, ChannelType } from '../types.js';
import { dingtalkDriver } from './dingtalk.js';
import { discordDriver } from './discord.js';
import { emailDriver } from './email.js';
import { feishuDriver } from './feishu.js';
import { slackDriver } from './slack.js';
import { telegramDriver } from './telegram.js';
import { webhookDriver } from './webhook.js';
import { wecomDriver } from './wecom.js';

/** The channel types that send over the network; `console` has its own home. */
export const CHANNEL_DRIVERS: Readonly<Record<Exclude<ChannelType, 'console'>, ChannelDriver>> = Object.freeze({
  email: emailDriver,
  wecom: wecomDriver,
  dingtalk: dingtalkDriver,
  feishu: feishuDriver,
  slack: slackDriver,
  discord: discordDriver,
  telegram: telegramDriver,
  webhook: webhookDriver,
});

/** The driver of `type`; undefined for `console`, which is not one of these. */
export const driverFor = (type: ChannelType): ChannelDriver | undefined =>
  type === 'console' ? undefined : CHANNEL_DRIVERS[type];

export { renderHtml, renderMarkdown, renderText } from './render.js';
export { signWebhook, verifyWebhookSignature, webhookPayload, type WebhookPayload } from './webhook.js';
