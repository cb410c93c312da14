import { createHmac } from 'node:crypto';
import http from 'node:http';
import { verifyWebhookSignature, type WebhookPayload } from '../../src/alerts/channels/webhook.js';
import { parseJson, serve, withBody } from './server-kit.js';

/**
 * One local server that plays the chat platforms the alert channels post to: WeCom, DingTalk and
 * Feishu robots, Slack and Discord webhooks, the Telegram Bot API and a Standard-Webhooks
 * receiver. Each route checks the platform's JSON shape and size limit and, where a signing
 * secret is configured, recomputes the signature; a request that breaks a rule gets the
 * platform's real error answer and lands in `rejected`, a good one in `received`.
 */

export type Platform = 'wecom' | 'dingtalk' | 'feishu' | 'slack' | 'discord' | 'telegram' | 'webhook';
const PLATFORMS: readonly Platform[] = ['wecom', 'dingtalk', 'feishu', 'slack', 'discord', 'telegram', 'webhook'];

export interface WecomBody {
  msgtype: 'markdown' | 'text';
  markdown?: { content: string };
  text?: { content: string; mentioned_list?: string[]; mentioned_mobile_list?: string[] };
}
export interface DingtalkBody {
  msgtype: 'markdown';
  markdown: { title: string; text: string };
  at?: { atMobiles?: string[]; isAtAll?: boolean };
}
export interface FeishuBody {
  timestamp?: string;
  sign?: string;
  msg_type: 'interactive' | 'text' | 'post';
  card?: { header?: { template?: string; title: { tag: string; content: string } }; elements: FeishuElement[] };
  content?: { text?: string };
}
export interface FeishuElement {
  tag: string;
  content?: string;
}
export interface SlackBody {
  text: string;
  blocks?: { type: string; text?: { type: string; text: string } }[];
}
export interface DiscordEmbed {
  title?: string;
  description?: string;
  url?: string;
  color?: number;
  timestamp?: string;
  fields?: { name: string; value: string; inline?: boolean }[];
}
export interface DiscordBody {
  content?: string;
  embeds?: DiscordEmbed[];
  allowed_mentions?: { parse: string[] };
}
export interface TelegramBody {
  chat_id: string | number;
  text: string;
  parse_mode?: string;
  disable_web_page_preview?: boolean;
}

interface Bodies {
  wecom: WecomBody;
  dingtalk: DingtalkBody;
  feishu: FeishuBody;
  slack: SlackBody;
  discord: DiscordBody;
  telegram: TelegramBody;
  webhook: WebhookPayload;
}

export interface Received<T> {
  body: T;
  raw: string;
  query: Record<string, string>;
  headers: http.IncomingHttpHeaders;
}

export interface Rejection {
  platform: Platform;
  status: number;
  answer: string;
}

/** An HTTP status (answered with the platform's body for it), or a platform error code in a 200 answer. */
export type Failure = number | { code: number; message?: string };

export interface ChatRobotsOptions {
  /** Signing secrets the fake requires; without one a platform takes unsigned requests. */
  secrets?: { dingtalk?: string; feishu?: string; webhook?: string };
  /** The credentials in the URLs (robot keys, webhook tokens, the bot token). */
  tokens?: Partial<Record<Platform, string>>;
  now?: () => number;
}

export interface ChatRobots {
  base: string;
  urls: Record<Exclude<Platform, 'telegram'>, string> & { telegramApiBase: string };
  tokens: Record<Platform, string>;
  received: { [P in Platform]: Received<Bodies[P]>[] };
  rejected: Rejection[];
  /** Answers the next `n` requests of `platform` with `failure`. */
  failNext(platform: Platform, n: number, failure: Failure): void;
  /** Forgets what was received and rejected, and pending failures. */
  reset(): void;
  close(): Promise<void>;
}

const DEFAULT_TOKENS: Record<Platform, string> = {
  wecom: 'wecom-key-0b7c4e2a-5f1d-4c9e-8a3b',
  dingtalk: 'dingtalk-access-token-93f1c7a2e8b4d6f0',
  feishu: 'feishu-hook-4d2e9a71-0c3b-4f8e-b6a5',
  slack: 'T0000FAKE/B0000FAKE/slackfaketoken1234567890',
  discord: '112233445566778899/discord-webhook-token-abcdef0123456789',
  telegram: '123456789:AAFakeTelegramBotTokenForTests_0123',
  webhook: 'webhook-path-token-7a1f93c2',
};

/** The tags Telegram's HTML parse mode supports. */
const TELEGRAM_TAGS = /^(b|strong|i|em|u|ins|s|strike|del|a|code|pre|span|tg-spoiler|blockquote|tg-emoji)$/;

/** Telegram's HTML rule: every <, > and & is part of a supported tag or an entity. */
function telegramHtmlError(html: string): string | undefined {
  for (const m of html.matchAll(/<\/?([a-z-]*)[^<>]*>|[<>]|&[^;\s&<>]*;?/gi)) {
    const tok = m[0];
    if (tok === '<' || tok === '>')
      return `Unexpected ${tok === '<' ? 'start' : 'end'} of tag at byte offset ${m.index}`;
    if (tok.startsWith('<') && !TELEGRAM_TAGS.test(m[1] ?? ''))
      return `Unsupported start tag "${m[1]}" at byte offset ${m.index}`;
    if (tok.startsWith('&') && !/^&(lt|gt|amp|quot|#\d+|#x[\da-f]+);$/i.test(tok))
      return `Can't find end of the entity starting at byte offset ${m.index}`;
  }
  return undefined;
}

/** The text as Telegram measures it: after tags and entities are parsed. */
const telegramVisible = (html: string): string =>
  html
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');

const isStr = (v: unknown): v is string => typeof v === 'string';
const isStrArray = (v: unknown): boolean => v === undefined || (Array.isArray(v) && v.every(isStr));

export async function startChatRobots(opts: ChatRobotsOptions = {}): Promise<ChatRobots> {
  const now = opts.now ?? Date.now;
  const tokens = { ...DEFAULT_TOKENS, ...opts.tokens };
  const secrets = opts.secrets ?? {};
  const received = Object.fromEntries(PLATFORMS.map((p) => [p, []])) as unknown as ChatRobots['received'];
  const rejected: Rejection[] = [];
  const failures = new Map<Platform, Failure[]>();

  const answer = (res: http.ServerResponse, status: number, body: unknown) => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json' });
    res.end(text);
  };

  /** The platform's answer for an injected failure. */
  function failWith(platform: Platform, res: http.ServerResponse, f: Failure) {
    if (typeof f === 'number') {
      const body: Record<Platform, unknown> = {
        wecom: { errcode: -1, errmsg: 'system busy' },
        dingtalk: { errcode: -1, errmsg: '系统繁忙' },
        feishu: { code: 9499, msg: 'internal error' },
        slack: f === 429 ? 'rate_limited' : 'service_unavailable',
        discord:
          f === 429 ? { message: 'You are being rate limited.', retry_after: 1.5, global: false } : { message: 'oops' },
        telegram:
          f === 429
            ? {
                ok: false,
                error_code: 429,
                description: 'Too Many Requests: retry after 3',
                parameters: { retry_after: 3 },
              }
            : { ok: false, error_code: f, description: 'Internal Server Error' },
        webhook: { error: 'injected failure' },
      };
      return answer(res, f, body[platform]);
    }
    const msg = f.message ?? 'injected failure';
    if (platform === 'wecom' || platform === 'dingtalk') return answer(res, 200, { errcode: f.code, errmsg: msg });
    if (platform === 'feishu') return answer(res, 200, { code: f.code, msg, data: {} });
    if (platform === 'telegram') return answer(res, f.code, { ok: false, error_code: f.code, description: msg });
    if (platform === 'discord') return answer(res, 400, { code: f.code, message: msg });
    return answer(res, f.code >= 400 ? f.code : 400, msg);
  }

  type Check<P extends Platform> = (
    body: unknown,
    query: URLSearchParams,
    req: http.IncomingMessage,
    raw: string,
  ) => { status: number; answer: unknown } | { ok: Bodies[P]; status?: number; answer?: unknown };

  function wecom(body: unknown): ReturnType<Check<'wecom'>> {
    const b = body as Partial<WecomBody> | undefined;
    const bad = (errcode: number, errmsg: string) => ({ status: 200, answer: { errcode, errmsg } });
    if (!b || typeof b !== 'object') return bad(40035, 'invalid parameter, hint: [body is not JSON]');
    if (b.msgtype === 'markdown') {
      if (!isStr(b.markdown?.content) || !b.markdown.content) return bad(44004, 'empty content');
      if (Buffer.byteLength(b.markdown.content) > 4096)
        return bad(40058, 'markdown.content exceed max length 4096. invalid Request Parameter');
    } else if (b.msgtype === 'text') {
      if (!isStr(b.text?.content) || !b.text.content) return bad(44004, 'empty content');
      if (Buffer.byteLength(b.text.content) > 2048) return bad(40058, 'text.content exceed max length 2048');
      if (!isStrArray(b.text.mentioned_list) || !isStrArray(b.text.mentioned_mobile_list))
        return bad(40035, 'invalid parameter, hint: [mentioned_list]');
    } else return bad(40008, 'invalid message type');
    return { ok: b as WecomBody, answer: { errcode: 0, errmsg: 'ok' } };
  }

  function dingtalk(body: unknown, query: URLSearchParams): ReturnType<Check<'dingtalk'>> {
    const bad = (errcode: number, errmsg: string) => ({ status: 200, answer: { errcode, errmsg } });
    if (secrets.dingtalk) {
      const ts = query.get('timestamp') ?? '';
      const sign = query.get('sign') ?? '';
      if (!/^\d+$/.test(ts) || Math.abs(now() - Number(ts)) > 3600_000) return bad(310000, 'invalid timestamp');
      const expected = createHmac('sha256', secrets.dingtalk).update(`${ts}\n${secrets.dingtalk}`).digest('base64');
      if (sign !== expected)
        return bad(310000, 'sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]');
    }
    const b = body as Partial<DingtalkBody> | undefined;
    if (!b || typeof b !== 'object') return bad(43004, '无效的HTTP HEADER Content-Type');
    if (b.msgtype !== 'markdown') return bad(40035, '缺少参数 msgtype');
    if (!isStr(b.markdown?.title) || !isStr(b.markdown.text) || !b.markdown.text)
      return bad(40035, '缺少参数 markdown');
    if (Buffer.byteLength(b.markdown.text) > 20000) return bad(460101, 'message too long, exceed 20000 bytes');
    if (b.at !== undefined && (!isStrArray(b.at.atMobiles) || typeof (b.at.isAtAll ?? false) !== 'boolean'))
      return bad(40035, '缺少参数 at');
    return { ok: b as DingtalkBody, answer: { errcode: 0, errmsg: 'ok' } };
  }

  function feishu(body: unknown, _q: URLSearchParams, _req: http.IncomingMessage, raw: string) {
    const bad = (code: number, msg: string) => ({ status: 200, answer: { code, msg, data: {} } });
    const b = body as Partial<FeishuBody> | undefined;
    if (!b || typeof b !== 'object') return bad(9499, 'Bad Request');
    if (secrets.feishu) {
      const ts = b.timestamp ?? '';
      const expected = createHmac('sha256', `${ts}\n${secrets.feishu}`).update('').digest('base64');
      const fresh = /^\d+$/.test(ts) && Math.abs(now() / 1000 - Number(ts)) <= 3600;
      if (!fresh || b.sign !== expected)
        return bad(19021, 'sign match fail or timestamp is not within one hour from current time');
    }
    if (Buffer.byteLength(raw) > 20 * 1024) return bad(9499, 'request body exceeds 20KB');
    if (b.msg_type === 'interactive') {
      const card = b.card;
      if (!card || !Array.isArray(card.elements) || card.elements.length === 0) return bad(11246, 'card is empty');
      if (card.header && !isStr(card.header.title?.content)) return bad(11246, 'invalid card header');
      for (const el of card.elements)
        if (!isStr(el.tag) || (el.tag === 'markdown' && !isStr(el.content))) return bad(11246, 'invalid card element');
    } else if (b.msg_type === 'text') {
      if (!isStr(b.content?.text)) return bad(9499, 'Bad Request');
    } else if (b.msg_type !== 'post') return bad(19002, 'params error, msg_type need');
    return { ok: b as FeishuBody, answer: { code: 0, msg: 'success', data: {} } };
  }

  function slack(body: unknown): ReturnType<Check<'slack'>> {
    const bad = (answer: string) => ({ status: 400, answer });
    const b = body as Partial<SlackBody> | undefined;
    if (!b || typeof b !== 'object') return bad('invalid_payload');
    if (!isStr(b.text) && !Array.isArray(b.blocks)) return bad('no_text');
    for (const block of b.blocks ?? []) {
      const t = block.text;
      if (block.type === 'header' && (t?.type !== 'plain_text' || !isStr(t.text) || t.text.length > 150))
        return bad('invalid_blocks');
      if (block.type === 'section' && (!t || !isStr(t.text) || !t.text || t.text.length > 3000))
        return bad('invalid_blocks');
      if (!['header', 'section', 'context', 'divider'].includes(block.type)) return bad('invalid_blocks');
    }
    return { ok: b as SlackBody, answer: 'ok' };
  }

  function discord(body: unknown, query: URLSearchParams): ReturnType<Check<'discord'>> {
    const bad = (what: string) => ({
      status: 400,
      answer: { code: 50035, message: 'Invalid Form Body', errors: what },
    });
    const b = body as Partial<DiscordBody> | undefined;
    if (!b || typeof b !== 'object')
      return { status: 400, answer: { code: 50109, message: 'The request body contains invalid JSON.' } };
    if (!b.content && !b.embeds?.length)
      return { status: 400, answer: { code: 50006, message: 'Cannot send an empty message' } };
    if (b.content !== undefined && (!isStr(b.content) || b.content.length > 2000)) return bad('content');
    let total = 0;
    for (const e of b.embeds ?? []) {
      if (e.title !== undefined && (!isStr(e.title) || e.title.length > 256)) return bad('embeds.title');
      if (e.description !== undefined && (!isStr(e.description) || e.description.length > 4096))
        return bad('embeds.description');
      if (e.color !== undefined && (!Number.isInteger(e.color) || e.color < 0 || e.color > 0xffffff))
        return bad('color');
      if (e.timestamp !== undefined && Number.isNaN(Date.parse(e.timestamp))) return bad('timestamp');
      if ((e.fields?.length ?? 0) > 25) return bad('embeds.fields');
      for (const f of e.fields ?? []) {
        if (!isStr(f.name) || !f.name || f.name.length > 256) return bad('fields.name');
        if (!isStr(f.value) || !f.value || f.value.length > 1024) return bad('fields.value');
        total += f.name.length + f.value.length;
      }
      total += (e.title ?? '').length + (e.description ?? '').length;
    }
    if ((b.embeds?.length ?? 0) > 10 || total > 6000) return bad('embeds: total size exceeds 6000');
    return query.get('wait') === 'true'
      ? { ok: b as DiscordBody, status: 200, answer: { id: String(Date.now()), type: 0 } }
      : { ok: b as DiscordBody, status: 204, answer: '' };
  }

  let telegramMessageId = 0;
  function telegram(body: unknown): ReturnType<Check<'telegram'>> {
    const bad = (description: string) => ({ status: 400, answer: { ok: false, error_code: 400, description } });
    const b = body as Partial<TelegramBody> | undefined;
    if (!b || typeof b !== 'object') return bad('Bad Request: message text is empty');
    if (b.chat_id === undefined || b.chat_id === '') return bad('Bad Request: chat_id is empty');
    if (!isStr(b.text) || !b.text) return bad('Bad Request: message text is empty');
    if (b.parse_mode === 'HTML') {
      const err = telegramHtmlError(b.text);
      if (err) return bad(`Bad Request: can't parse entities: ${err}`);
    }
    if (telegramVisible(b.text).length > 4096) return bad('Bad Request: message is too long');
    telegramMessageId++;
    return {
      ok: b as TelegramBody,
      answer: { ok: true, result: { message_id: telegramMessageId, chat: { id: b.chat_id }, text: b.text } },
    };
  }

  function webhook(body: unknown, _q: URLSearchParams, req: http.IncomingMessage, raw: string) {
    const header = (n: string) => String(req.headers[n] ?? '');
    if (secrets.webhook) {
      const v = verifyWebhookSignature({
        secret: secrets.webhook,
        id: header('webhook-id'),
        timestamp: header('webhook-timestamp'),
        body: raw,
        signatureHeader: header('webhook-signature'),
        now: now(),
      });
      if (!v.ok) return { status: 401, answer: { error: `invalid signature (${v.reason})` } };
    }
    const b = body as Partial<WebhookPayload> | undefined;
    const types = ['alert.firing', 'alert.resolved', 'alert.reminder', 'alert.test'];
    // A scheduled report (`report.daily`…) carries its data in `report` rather than items.
    const report =
      /^report\.(daily|weekly|monthly)$/.test(String(b?.type)) &&
      typeof (b as { report?: unknown }).report === 'object';
    if (!b || b.id !== header('webhook-id') || (!report && (!types.includes(b.type ?? '') || !Array.isArray(b.items))))
      return { status: 400, answer: { error: 'unexpected payload' } };
    return { ok: b as WebhookPayload, status: 204, answer: '' };
  }

  /** The platform of a path and its check; no check when the credential in the path is not the fake's. */
  function route(path: string): { platform: Platform; check?: Check<Platform> } | undefined {
    const routes: [Platform, string, Check<Platform>][] = [
      ['wecom', '/wecom/cgi-bin/webhook/send', wecom as Check<Platform>],
      ['dingtalk', '/dingtalk/robot/send', dingtalk as Check<Platform>],
      ['feishu', '/feishu/open-apis/bot/v2/hook/', feishu as Check<Platform>],
      ['slack', '/slack/services/', slack as Check<Platform>],
      ['discord', '/discord/api/webhooks/', discord as Check<Platform>],
      ['telegram', '/telegram/bot', telegram as Check<Platform>],
      ['webhook', '/webhook/', webhook as Check<Platform>],
    ];
    for (const [platform, prefix, check] of routes) {
      if (!path.startsWith(prefix)) continue;
      // WeCom and DingTalk carry the credential in the query, checked by the caller.
      if (platform === 'wecom' || platform === 'dingtalk') return path === prefix ? { platform, check } : undefined;
      const token = decodeURIComponent(path.slice(prefix.length)).replace(/\/sendMessage$/, '');
      return { platform, check: token === tokens[platform] ? check : undefined };
    }
    return undefined;
  }

  const WRONG: Record<Platform, [number, unknown]> = {
    wecom: [
      200,
      {
        errcode: 93000,
        errmsg:
          'invalid webhook url, hint: [1700000000], more info at https://open.work.weixin.qq.com/devtool/query?e=93000',
      },
    ],
    dingtalk: [200, { errcode: 300001, errmsg: 'token is not exist' }],
    feishu: [200, { code: 19001, msg: 'param invalid: incoming webhook access token invalid', data: {} }],
    slack: [403, 'invalid_token'],
    discord: [401, { message: 'Invalid Webhook Token', code: 50027 }],
    telegram: [401, { ok: false, error_code: 401, description: 'Unauthorized' }],
    webhook: [404, 'not found'],
  };

  const server = http.createServer(
    withBody((req, res, raw) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const r = route(url.pathname);
      if (!r || req.method !== 'POST') return answer(res, 404, 'not found');
      const { platform } = r;
      const pending = failures.get(platform);
      if (pending?.length) return failWith(platform, res, pending.shift()!);
      const reject = (status: number, body: unknown) => {
        rejected.push({ platform, status, answer: typeof body === 'string' ? body : JSON.stringify(body) });
        answer(res, status, body);
      };
      const queryToken = platform === 'wecom' ? url.searchParams.get('key') : url.searchParams.get('access_token');
      const queryCredential = platform === 'wecom' || platform === 'dingtalk';
      if (!r.check || (queryCredential && queryToken !== tokens[platform])) return reject(...WRONG[platform]);
      const verdict = r.check(parseJson(raw), url.searchParams, req, raw);
      if (!('ok' in verdict)) return reject(verdict.status, verdict.answer);
      (received[platform] as Received<unknown>[]).push({
        body: verdict.ok,
        raw,
        query: Object.fromEntries(url.searchParams),
        headers: req.headers,
      });
      answer(res, verdict.status ?? 200, verdict.answer);
    }),
  );
  const { url: base, close } = await serve(server);

  return {
    base,
    tokens,
    urls: {
      wecom: `${base}/wecom/cgi-bin/webhook/send?key=${tokens.wecom}`,
      dingtalk: `${base}/dingtalk/robot/send?access_token=${tokens.dingtalk}`,
      feishu: `${base}/feishu/open-apis/bot/v2/hook/${tokens.feishu}`,
      slack: `${base}/slack/services/${tokens.slack}`,
      discord: `${base}/discord/api/webhooks/${tokens.discord}`,
      telegramApiBase: `${base}/telegram`,
      webhook: `${base}/webhook/${tokens.webhook}`,
    },
    received,
    rejected,
    failNext(platform, n, failure) {
      const list = failures.get(platform) ?? [];
      for (let i = 0; i < n; i++) list.push(failure);
      failures.set(platform, list);
    },
    reset() {
      for (const p of PLATFORMS) received[p].length = 0;
      rejected.length = 0;
      failures.clear();
    },
    close,
  };
}
