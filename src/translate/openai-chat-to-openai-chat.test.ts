import { describe, expect, it } from 'vitest';
import { usageReader } from '../wire/index.js';
import type { BridgeContext } from './index.js';
import { bridgeFor } from './index.js';
import { openaiChatToOpenaiChat } from './openai-chat-to-openai-chat.js';

const ctx = (clientBody: Record<string, unknown>, upstreamModel = 'gpt-6.2-sol'): BridgeContext => ({
  requestedModel: String(clientBody.model),
  upstreamModel,
  stream: clientBody.stream === true,
  clientQuery: new URLSearchParams(),
  clientBody,
});

const data = (v: unknown) => `data: ${typeof v === 'string' ? v : JSON.stringify(v)}\n\n`;
const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({
  id: 'chatcmpl-1',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'gpt-6.2-sol',
  choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
  usage: null,
});
const USAGE_CHUNK = {
  id: 'chatcmpl-1',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'gpt-6.2-sol',
  choices: [],
  usage: { prompt_tokens: 50, completion_tokens: 7, total_tokens: 57 },
};
const CONTENT = [
  data(chunk({ role: 'assistant', content: '' })),
  data(chunk({ content: 'Hi ' })),
  data(chunk({ content: 'there — ✓' })),
  data(chunk({}, 'stop')),
];
const UPSTREAM = [...CONTENT, data(USAGE_CHUNK), data('[DONE]')].join('');

/** Runs the upstream bytes through the bridge's translator in the given pieces. */
function translate(c: BridgeContext, pieces: Buffer[], complete = true): string {
  const t = openaiChatToOpenaiChat.stream(c);
  const out = pieces.map((p) => t.push(p));
  out.push(t.end({ complete }));
  return Buffer.concat(out).toString('utf8');
}

function everySplit(text: string): Buffer[][] {
  const bytes = Buffer.from(text);
  const out: Buffer[][] = [[bytes], [...bytes].map((b) => Buffer.from([b]))];
  for (let i = 1; i < bytes.length; i++) out.push([bytes.subarray(0, i), bytes.subarray(i)]);
  return out;
}

describe('openai-chat → openai-chat: the request', () => {
  it('is the bridge for same-format chat calls', () => {
    expect(bridgeFor('openai-chat', 'openai-chat')).toBe(openaiChatToOpenaiChat);
  });

  it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    [
      'a stream asks for usage',
      { model: 'm', stream: true, messages: [] },
      { model: 'gpt-6.2-sol', stream: true, messages: [], stream_options: { include_usage: true } },
    ],
    [
      "the client's other stream options stay",
      { model: 'm', stream: true, messages: [], stream_options: { include_obfuscation: false } },
      {
        model: 'gpt-6.2-sol',
        stream: true,
        messages: [],
        stream_options: { include_obfuscation: false, include_usage: true },
      },
    ],
    [
      'include_usage: false is overridden (the relay must see the usage)',
      { model: 'm', stream: true, messages: [], stream_options: { include_usage: false } },
      { model: 'gpt-6.2-sol', stream: true, messages: [], stream_options: { include_usage: true } },
    ],
    [
      'a client that asked keeps its request',
      { model: 'm', stream: true, messages: [], stream_options: { include_usage: true } },
      { model: 'gpt-6.2-sol', stream: true, messages: [], stream_options: { include_usage: true } },
    ],
    [
      'no stream: nothing added',
      { model: 'm', messages: [{ role: 'user', content: 'x' }], temperature: 0.2 },
      { model: 'gpt-6.2-sol', messages: [{ role: 'user', content: 'x' }], temperature: 0.2 },
    ],
  ])('%s', (_name, body, want) => {
    expect(openaiChatToOpenaiChat.request(body, ctx(body))).toEqual(want);
  });

  it('the answer passes as it is', () => {
    const answer = { id: 'x', object: 'chat.completion', choices: [], usage: { prompt_tokens: 1 } };
    expect(openaiChatToOpenaiChat.response(answer, ctx({ model: 'm' }))).toBe(answer);
  });
});

describe('openai-chat → openai-chat: the stream (every byte split)', () => {
  it('a client that did not ask never sees the usage chunk; every other byte passes', () => {
    const c = ctx({ model: 'm', stream: true, messages: [] });
    const want = [...CONTENT, data('[DONE]')].join('');
    for (const pieces of everySplit(UPSTREAM)) expect(translate(c, pieces)).toBe(want);
  });

  it('the relay still reads the usage from the upstream bytes', () => {
    const tap = usageReader('openai-chat').tap();
    tap.push(Buffer.from(UPSTREAM));
    tap.end();
    expect(tap.usage).toMatchObject({ inputTokens: 50, outputTokens: 7 });
  });

  it('a client that asked gets every byte', () => {
    const c = ctx({ model: 'm', stream: true, messages: [], stream_options: { include_usage: true } });
    for (const pieces of everySplit(UPSTREAM)) expect(translate(c, pieces)).toBe(UPSTREAM);
  });

  it('a usage on a content chunk is taken off it, the chunk kept', () => {
    const last = { ...chunk({}, 'stop'), usage: { prompt_tokens: 5, completion_tokens: 1 } };
    const upstream = [data(chunk({ content: 'x' })), data(last), data('[DONE]')].join('');
    const { usage: _u, ...withoutUsage } = last;
    const want = [data(chunk({ content: 'x' })), data(withoutUsage), data('[DONE]')].join('');
    for (const pieces of everySplit(upstream)) expect(translate(ctx({ model: 'm', stream: true }), pieces)).toBe(want);
  });

  it('CRLF events pass byte for byte', () => {
    const upstream = [...CONTENT, data(USAGE_CHUNK), data('[DONE]')].join('').replace(/\n/g, '\r\n');
    const want = [...CONTENT, data('[DONE]')].join('').replace(/\n/g, '\r\n');
    for (const pieces of everySplit(upstream)) expect(translate(ctx({ model: 'm', stream: true }), pieces)).toBe(want);
  });

  it('a cut stream: the complete events pass, the partial one is dropped, an error chunk closes it', () => {
    const cutAt = UPSTREAM.indexOf('there');
    const upstream = UPSTREAM.slice(0, cutAt);
    const out = translate(ctx({ model: 'm', stream: true }), [Buffer.from(upstream)], false);
    const notice = usageReader('openai-chat').cutNotice?.().toString('utf8') ?? '';
    expect(out).toBe(CONTENT.slice(0, 2).join('') + notice);
  });

  it('after an upstream error chunk no second error is added', () => {
    const err = data({ error: { message: 'boom', type: 'server_error', param: null, code: null } });
    const out = translate(ctx({ model: 'm', stream: true }), [Buffer.from(CONTENT[0] + err)], false);
    expect(out).toBe(CONTENT[0] + err);
  });

  it('a finished stream without a final blank line still delivers its last event', () => {
    const upstream = `${CONTENT[0]}data: [DONE]`;
    expect(translate(ctx({ model: 'm', stream: true }), [Buffer.from(upstream)])).toBe(upstream);
  });
});
