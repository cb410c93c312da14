import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { CHANNEL_DRIVERS, driverFor } from '../../src/alerts/channels/index.js';
import {
  ChannelError,
  type AlertItem,
  type AlertMessage,
  type ChannelConfig,
  type ChannelType,
  type SendContext,
} from '../../src/alerts/types.js';
import { startChatRobots, type ChatRobots, type Platform } from '../fakes/chat-robots.js';
import { startSmtp, type FakeSmtp } from '../fakes/smtp.js';

/**
 * Every alert channel against a local fake of its platform (real sockets, real JSON, real
 * signatures; a real SMTP server for email): what each platform receives for a firing and a
 * resolved message, size limits with 500 subjects, and which failures are worth a retry. No
 * error message may repeat a webhook URL, a token or a secret. Needs no Redis: runs once.
 */

const SECRETS = {
  dingtalk: 'SECdingtalk0f1e2d3c4b5a69788796a5b4c3d2e1f0',
  feishu: 'feishu-signing-secret-5b8e2c',
  webhook: `whsec_${Buffer.from('webhook signing key for the tests!').toString('base64')}`,
};
const SMTP_USER = 'alerts';
const SMTP_PASS = 'smtp-pass-Zx81!secret';
const URL_LINK = 'https://relay.example.com/admin/alerts/rul_err';

function item(over: Partial<AlertItem> = {}): AlertItem {
  return {
    subject: 'claude account "team-a" (acc_1)',
    labels: { platform: 'claude', accountId: 'acc_1' },
    value: 0.853,
    threshold: 0.8,
    unit: '%',
    startsAt: Date.now() - 120_000,
    endsAt: null,
    ...over,
  };
}

const TWO = (): AlertItem[] => [
  item(),
  item({ subject: 'key "ci" (key_2)', labels: { keyId: 'key_2' }, value: 1234, threshold: 1000, unit: 'ms' }),
];

function message(kind: AlertMessage['kind'], items: AlertItem[], over: Partial<AlertMessage> = {}): AlertMessage {
  const severity = over.rule?.severity ?? 'P1';
  return {
    id: `ntf_${kind}_${Math.random().toString(36).slice(2)}`,
    kind,
    rule: { id: 'rul_err', name: 'Error rate high', severity, category: 'performance', description: 'Too many errors' },
    title: `[${severity} ${kind.toUpperCase()}] ${items.length} claude accounts erroring`,
    items: kind === 'resolved' ? items.map((i) => ({ ...i, endsAt: Date.now() })) : items,
    node: 'relay-2',
    at: Date.now(),
    url: URL_LINK,
    timeZone: 'Asia/Shanghai',
    ...over,
  };
}

let nextId = 0;
function channel(type: ChannelType, settings: Record<string, string>, secrets: Record<string, string>): ChannelConfig {
  nextId++;
  return {
    id: `chn_${nextId}`,
    type,
    name: `${type} test`,
    enabled: true,
    minSeverity: 'P3',
    ratePerMinute: 0,
    settings,
    secrets,
    createdAt: Date.now(),
    updatedAt: Date.now(),
  };
}

const ctx = (): SendContext => ({ now: () => Date.now(), signal: AbortSignal.timeout(10_000) });
const send = (c: ChannelConfig, m: AlertMessage) => driverFor(c.type)!.send(c, m, ctx());

/** The ChannelError `p` rejects with, checked for retryability and for secrets it must not show. */
async function failure(p: Promise<unknown>, retryable: boolean, absent: readonly string[]): Promise<ChannelError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ChannelError);
  const ce = err as ChannelError;
  expect(ce.retryable, ce.message).toBe(retryable);
  for (const s of absent) expect(ce.message).not.toContain(s);
  return ce;
}

const unescapeHtml = (s: string) =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');

describe.skipIf(inject('redisTarget').kind === 'cluster')('alert channels against fake platforms', () => {
  let robots: ChatRobots;
  let smtp: FakeSmtp;

  beforeAll(async () => {
    robots = await startChatRobots({ secrets: SECRETS });
    smtp = await startSmtp({ user: SMTP_USER, pass: SMTP_PASS });
  });
  afterAll(async () => {
    await robots?.close();
    await smtp?.close();
  });
  beforeEach(() => robots.reset());

  /** Every credential the fake's URLs carry, and the signing secrets: none may appear in an error. */
  const allSecrets = () => [...Object.values(robots.tokens), ...Object.values(robots.urls), ...Object.values(SECRETS)];

  const chats: Record<Platform, { channel: () => ChannelConfig; visible: () => string }> = {
    wecom: {
      channel: () => channel('wecom', {}, { webhookUrl: robots.urls.wecom }),
      visible: () => {
        const b = robots.received.wecom.at(-1)!.body;
        return b.markdown?.content ?? b.text!.content;
      },
    },
    dingtalk: {
      channel: () => channel('dingtalk', {}, { webhookUrl: robots.urls.dingtalk, secret: SECRETS.dingtalk }),
      visible: () => {
        const b = robots.received.dingtalk.at(-1)!.body;
        return `${b.markdown.title}\n${b.markdown.text}`;
      },
    },
    feishu: {
      channel: () => channel('feishu', {}, { webhookUrl: robots.urls.feishu, secret: SECRETS.feishu }),
      visible: () => {
        const card = robots.received.feishu.at(-1)!.body.card!;
        return unescapeHtml(`${card.header!.title.content}\n${card.elements.map((e) => e.content).join('\n')}`);
      },
    },
    slack: {
      channel: () => channel('slack', {}, { webhookUrl: robots.urls.slack }),
      visible: () =>
        unescapeHtml(
          robots.received.slack
            .at(-1)!
            .body.blocks!.map((b) => b.text?.text)
            .join('\n'),
        ),
    },
    discord: {
      channel: () => channel('discord', {}, { webhookUrl: robots.urls.discord }),
      visible: () => {
        const e = robots.received.discord.at(-1)!.body.embeds![0]!;
        const text = [e.title, e.description, ...(e.fields ?? []).map((f) => f.value), e.url].join('\n');
        return text.replace(/\\([\\*_~`|[\]])/g, '$1');
      },
    },
    telegram: {
      channel: () =>
        channel(
          'telegram',
          { chatId: '-1001234567890', apiBase: robots.urls.telegramApiBase },
          { botToken: robots.tokens.telegram },
        ),
      visible: () => {
        const b = robots.received.telegram.at(-1)!.body;
        return unescapeHtml(b.text.replace(/<a href="([^"]*)">/g, '$1 ').replace(/<[^>]+>/g, ''));
      },
    },
    webhook: {
      channel: () => channel('webhook', {}, { url: robots.urls.webhook, secret: SECRETS.webhook }),
      visible: () => JSON.stringify(robots.received.webhook.at(-1)!.body),
    },
  };

  it('has a driver for every type but console', () => {
    expect(Object.keys(CHANNEL_DRIVERS).sort()).toEqual(
      ['dingtalk', 'discord', 'email', 'feishu', 'slack', 'telegram', 'webhook', 'wecom'].sort(),
    );
    expect(driverFor('console')).toBeUndefined();
    for (const d of Object.values(CHANNEL_DRIVERS)) {
      expect(d.defaultRatePerMinute).toBeGreaterThan(0);
      expect(d.fields.length).toBeGreaterThan(0);
    }
  });

  describe.each(Object.keys(chats) as Platform[])('%s', (platform) => {
    it('delivers a firing and a resolved message with everything in it', async () => {
      const c = chats[platform].channel();
      await expect(send(c, message('firing', TWO()))).resolves.toMatch(new RegExp(platform));
      expect(robots.rejected).toEqual([]);
      const firing = chats[platform].visible();
      if (platform !== 'webhook') {
        for (const part of [
          'Error rate high',
          'rul_err',
          'P1',
          'FIRING',
          'claude account "team-a" (acc_1)',
          'key "ci" (key_2)',
          '85.3%',
          '80%',
          '1,234 ms',
          '1,000 ms',
          'relay-2',
          'GMT+08:00',
          URL_LINK,
        ])
          expect(firing, part).toContain(part);
      }
      await send(c, message('resolved', TWO()));
      expect(robots.rejected).toEqual([]);
      expect(robots.received[platform]).toHaveLength(2);
      if (platform !== 'webhook') expect(chats[platform].visible()).toContain('RESOLVED');
    });

    it('keeps 500 subjects under the size limit and says how many are left out', async () => {
      const items = Array.from({ length: 500 }, (_, i) =>
        item({ subject: `账号 "团队-${i}" 未授权🔒`, detail: '认证失败' }),
      );
      await send(chats[platform].channel(), message('firing', items));
      expect(robots.rejected).toEqual([]);
      const text = chats[platform].visible();
      if (platform === 'webhook') {
        expect(robots.received.webhook[0]!.body.items).toHaveLength(500);
        return;
      }
      const more = /… and (\d+) more/.exec(text);
      expect(more, text.slice(-300)).not.toBeNull();
      const shown = text.split('账号 "团队-').length - 1;
      expect(shown).toBeGreaterThan(0);
      expect(shown + Number(more![1])).toBe(500);
    });
  });

  it('wecom: a P0 firing is a text message with the mentions, within 2048 bytes', async () => {
    const c = channel(
      'wecom',
      { mentionMobiles: '13800001111, 13900002222', mentionUsers: '@all' },
      { webhookUrl: robots.urls.wecom },
    );
    const p0 = {
      id: 'rul_down',
      name: 'Pool down',
      severity: 'P0' as const,
      category: 'system' as const,
      description: '',
    };
    const items = Array.from({ length: 500 }, (_, i) => item({ subject: `账号 ${i}` }));
    await send(c, message('firing', items, { rule: p0 }));
    const body = robots.received.wecom[0]!.body;
    expect(body.msgtype).toBe('text');
    expect(body.text!.mentioned_mobile_list).toEqual(['13800001111', '13900002222']);
    expect(body.text!.mentioned_list).toEqual(['@all']);
    expect(Buffer.byteLength(body.text!.content)).toBeLessThanOrEqual(2048);
    expect(body.text!.content).toMatch(/… and \d+ more/);
    // Resolving is news, not a page: markdown again.
    await send(c, message('resolved', TWO(), { rule: p0 }));
    expect(robots.received.wecom[1]!.body.msgtype).toBe('markdown');
  });

  it('dingtalk: a P0 firing mentions the mobiles in "at" and in the text; the request is signed', async () => {
    const c = channel(
      'dingtalk',
      { mentionMobiles: '13800001111' },
      { webhookUrl: robots.urls.dingtalk, secret: SECRETS.dingtalk },
    );
    const p0 = {
      id: 'rul_down',
      name: 'Pool down',
      severity: 'P0' as const,
      category: 'system' as const,
      description: '',
    };
    await send(c, message('firing', TWO(), { rule: p0 }));
    const got = robots.received.dingtalk[0]!;
    expect(got.body.at).toEqual({ atMobiles: ['13800001111'], isAtAll: false });
    expect(got.body.markdown.text).toContain('@13800001111');
    expect(got.query.sign).toBeTruthy();
    expect(Math.abs(Number(got.query.timestamp) - Date.now())).toBeLessThan(10_000);
  });

  it('feishu: the card header is red for a P1 firing and green when resolved', async () => {
    const c = chats.feishu.channel();
    await send(c, message('firing', TWO()));
    await send(c, message('resolved', TWO()));
    expect(robots.received.feishu.map((r) => r.body.card!.header!.template)).toEqual(['red', 'green']);
    expect(robots.received.feishu[0]!.body.msg_type).toBe('interactive');
  });

  it('webhook: a signed Standard-Webhooks request with the documented body', async () => {
    const m = message('firing', TWO());
    await send(chats.webhook.channel(), m);
    const got = robots.received.webhook[0]!;
    expect(got.headers['webhook-id']).toBe(m.id);
    expect(got.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/=]+$/);
    expect(got.body).toMatchObject({
      id: m.id,
      type: 'alert.firing',
      severity: 'P1',
      rule: { id: 'rul_err', name: 'Error rate high', category: 'performance' },
      node: 'relay-2',
      url: URL_LINK,
      at: new Date(m.at).toISOString(),
    });
    expect(got.body.items[1]).toMatchObject({ subject: 'key "ci" (key_2)', value: 1234, threshold: 1000, unit: 'ms' });
    expect(got.body.items[0]!.endsAt).toBeNull();
  });

  it('webhook: while rotating, two signatures go out and either secret verifies', async () => {
    const c = channel(
      'webhook',
      {},
      { url: robots.urls.webhook, secret: 'the-new-secret', previousSecret: SECRETS.webhook },
    );
    await send(c, message('test', TWO()));
    expect(String(robots.received.webhook[0]!.headers['webhook-signature']).split(' ')).toHaveLength(2);
  });

  describe('failures', () => {
    it('a wrong DingTalk, Feishu or webhook secret is refused and not retried', async () => {
      const ding = channel('dingtalk', {}, { webhookUrl: robots.urls.dingtalk, secret: 'SECwrong-secret-value' });
      const e1 = await failure(send(ding, message('firing', TWO())), false, [...allSecrets(), 'SECwrong-secret-value']);
      expect(e1.message).toContain('errcode 310000');
      const fei = channel('feishu', {}, { webhookUrl: robots.urls.feishu, secret: 'wrong-feishu-secret' });
      const e2 = await failure(send(fei, message('firing', TWO())), false, [...allSecrets(), 'wrong-feishu-secret']);
      expect(e2.message).toContain('code 19021');
      const hook = channel('webhook', {}, { url: robots.urls.webhook, secret: 'wrong-webhook-secret' });
      const e3 = await failure(send(hook, message('firing', TWO())), false, [...allSecrets(), 'wrong-webhook-secret']);
      expect(e3.status).toBe(401);
      expect(robots.rejected.map((r) => r.platform)).toEqual(['dingtalk', 'feishu', 'webhook']);
    });

    it('an unsigned DingTalk request to a signing robot is refused', async () => {
      const c = channel('dingtalk', {}, { webhookUrl: robots.urls.dingtalk });
      const e = await failure(send(c, message('firing', TWO())), false, allSecrets());
      expect(e.message).toContain('310000');
    });

    it('5xx, WeCom 45009, Telegram 429 and Discord 429 are retryable', async () => {
      robots.failNext('wecom', 1, 500);
      const e1 = await failure(send(chats.wecom.channel(), message('firing', TWO())), true, allSecrets());
      expect(e1.status).toBe(500);
      robots.failNext('wecom', 1, { code: 45009, message: 'api freq out of limit' });
      const e2 = await failure(send(chats.wecom.channel(), message('firing', TWO())), true, allSecrets());
      expect(e2.message).toContain('errcode 45009');
      robots.failNext('telegram', 1, 429);
      const e3 = await failure(send(chats.telegram.channel(), message('firing', TWO())), true, allSecrets());
      expect(e3.message).toContain('retry after 3');
      robots.failNext('discord', 1, 429);
      await failure(send(chats.discord.channel(), message('firing', TWO())), true, allSecrets());
      robots.failNext('slack', 1, 503);
      await failure(send(chats.slack.channel(), message('firing', TWO())), true, allSecrets());
      robots.failNext('feishu', 1, 502);
      await failure(send(chats.feishu.channel(), message('firing', TWO())), true, allSecrets());
      robots.failNext('webhook', 1, 500);
      await failure(send(chats.webhook.channel(), message('firing', TWO())), true, allSecrets());
      // After the failure, the next attempt goes through.
      await send(chats.wecom.channel(), message('firing', TWO()));
      expect(robots.received.wecom).toHaveLength(1);
    });

    it('other 4xx and platform codes are not retryable', async () => {
      robots.failNext('slack', 1, { code: 400, message: 'invalid_payload' });
      const e = await failure(send(chats.slack.channel(), message('firing', TWO())), false, allSecrets());
      expect(e.message).toBe('slack answered HTTP 400: invalid_payload');
      robots.failNext('dingtalk', 1, { code: 300001, message: 'token is not exist' });
      await failure(send(chats.dingtalk.channel(), message('firing', TWO())), false, allSecrets());
    });

    it('error messages never repeat the URL, key or token, even when the platform echoes them', async () => {
      const echo = `invalid webhook url ${robots.urls.wecom} key=${robots.tokens.wecom} token ${robots.tokens.wecom}`;
      robots.failNext('wecom', 1, { code: 93000, message: echo });
      const e = await failure(send(chats.wecom.channel(), message('firing', TWO())), false, allSecrets());
      expect(e.message).toMatch(/^wecom answered HTTP 200 errcode 93000: invalid webhook url/);
      robots.failNext('telegram', 1, { code: 400, message: `Bad Request: bot${robots.tokens.telegram} is confused` });
      await failure(send(chats.telegram.channel(), message('firing', TWO())), false, allSecrets());
    });

    it('a wrong WeCom key or Telegram token is refused without showing it', async () => {
      const wrongKey = 'wrong-wecom-key-6f1b2a3c4d5e';
      const w = channel('wecom', {}, { webhookUrl: robots.urls.wecom.replace(robots.tokens.wecom, wrongKey) });
      const e1 = await failure(send(w, message('firing', TWO())), false, [...allSecrets(), wrongKey]);
      expect(e1.message).toContain('93000');
      const wrongToken = '987654321:AAWrongTokenWrongTokenWrongToken';
      const t = channel('telegram', { chatId: '42', apiBase: robots.urls.telegramApiBase }, { botToken: wrongToken });
      const e2 = await failure(send(t, message('firing', TWO())), false, [...allSecrets(), wrongToken]);
      expect(e2.status).toBe(401);
    });

    it('an unreachable platform is retryable and the error does not name the URL', async () => {
      const url = 'http://127.0.0.1:1/cgi-bin/webhook/send?key=unreachable-key-123456';
      const e = await failure(send(channel('wecom', {}, { webhookUrl: url }), message('firing', TWO())), true, [
        url,
        'unreachable-key-123456',
      ]);
      expect(e.message).toMatch(/^wecom could not be reached/);
    });

    it('bad settings fail validation, not retryable', async () => {
      const cases: ChannelConfig[] = [
        channel('wecom', {}, {}),
        channel('slack', {}, { webhookUrl: 'ftp://hooks.example.com/x' }),
        channel('discord', {}, { webhookUrl: 'not a url' }),
        channel('telegram', { chatId: 'x y' }, { botToken: '123:abc' }),
        channel('webhook', {}, { url: robots.urls.webhook }),
        channel('email', { host: 'smtp.example.com', from: 'a@example.com', to: 'nobody' }, {}),
        channel('email', { host: 'h', from: 'a@example.com', to: 'b@example.com', secure: 'ssl' }, {}),
      ];
      for (const c of cases) {
        expect(() => driverFor(c.type)!.validate!(c), c.type).toThrow(ChannelError);
        await failure(send(c, message('firing', TWO())), false, allSecrets());
      }
      expect(robots.received.webhook).toHaveLength(0);
    });
  });

  describe('email', () => {
    const emailChannel = (pass = SMTP_PASS) =>
      channel(
        'email',
        {
          host: '127.0.0.1',
          port: String(smtp.port),
          secure: 'none',
          username: SMTP_USER,
          from: 'Relay alerts <alerts@example.com>',
          to: 'ops@example.com, oncall@example.com',
        },
        { password: pass },
      );

    it('sends text and escaped HTML to every recipient', async () => {
      const items = [item({ subject: '<script>alert("x")</script> & co' }), ...TWO()];
      const m = message('firing', items);
      const before = smtp.messages.length;
      await expect(send(emailChannel(), m)).resolves.toContain('2 recipient');
      const mail = smtp.messages[before]!;
      expect(mail.subject).toBe(m.title);
      expect(smtp.envelopes[before]!.to.sort()).toEqual(['oncall@example.com', 'ops@example.com']);
      expect(mail.headers.get('x-alert-id')).toBe(m.id);
      for (const part of ['Error rate high', 'rul_err', 'FIRING', '85.3%', '80%', '1,234 ms', 'relay-2', URL_LINK])
        expect(mail.text, part).toContain(part);
      expect(mail.text).toContain('<script>alert("x")</script> & co');
      const html = String(mail.html);
      expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co');
      expect(html).not.toContain('<script>');
      expect(html).toContain(`href="${URL_LINK}"`);
      expect(html).toContain('GMT+08:00');

      await send(emailChannel(), message('resolved', TWO()));
      expect(smtp.messages[before + 1]!.text).toContain('RESOLVED');
    });

    it('lists at most 200 subjects and says how many more', async () => {
      const before = smtp.messages.length;
      const items = Array.from({ length: 500 }, (_, i) => item({ subject: `账号 ${i}` }));
      await send(emailChannel(), message('firing', items));
      expect(smtp.messages[before]!.text).toContain('… and 300 more');
      expect(String(smtp.messages[before]!.html)).toContain('… and 300 more');
    });

    it('a wrong password fails, not retryable, without the password', async () => {
      const failures = smtp.authFailures;
      const e = await failure(send(emailChannel('wrong-password-9f8e'), message('firing', TWO())), false, [
        'wrong-password-9f8e',
        SMTP_PASS,
      ]);
      expect(e.message).toContain('EAUTH');
      expect(smtp.authFailures).toBe(failures + 1);
    });

    it('STARTTLS with a self-signed certificate works when allowed, and fails otherwise', async () => {
      const tls = await startSmtp({ user: SMTP_USER, pass: SMTP_PASS, starttls: true });
      try {
        const settings = {
          host: '127.0.0.1',
          port: String(tls.port),
          secure: 'starttls',
          username: SMTP_USER,
          from: 'alerts@example.com',
          to: 'ops@example.com',
        };
        await send(
          channel('email', { ...settings, rejectUnauthorized: 'false' }, { password: SMTP_PASS }),
          message('test', TWO()),
        );
        expect(tls.messages).toHaveLength(1);
        await failure(send(channel('email', settings, { password: SMTP_PASS }), message('test', TWO())), false, [
          SMTP_PASS,
        ]);
      } finally {
        await tls.close();
      }
    });
  });
});
