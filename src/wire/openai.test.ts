import { describe, expect, it } from 'vitest';
import { ZERO_USAGE, type TokenUsage } from '../usage/pricing.js';
import type { UsageTap } from './index.js';
import { usageReader } from './index.js';
import { openaiTokenUsage, openaiUsageFromJson } from './openai.js';

const usage = (u: Partial<TokenUsage>): TokenUsage => ({ ...ZERO_USAGE, ...u });

const data = (v: unknown) => `data: ${typeof v === 'string' ? v : JSON.stringify(v)}\n\n`;
const named = (type: string, v: Record<string, unknown>) =>
  `event: ${type}\ndata: ${JSON.stringify({ type, ...v })}\n\n`;

const chunk = (delta: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  id: 'chatcmpl-1',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'gpt-6.2-sol',
  choices: [{ index: 0, delta, logprobs: null, finish_reason: null }],
  ...extra,
});
const CHAT_USAGE = {
  prompt_tokens: 1200,
  completion_tokens: 345,
  total_tokens: 1545,
  prompt_tokens_details: { cached_tokens: 1024, audio_tokens: 0 },
  completion_tokens_details: { reasoning_tokens: 200 },
};

/** Feeds `text` to a fresh tap in the given pieces. */
function tapWith(format: 'openai-chat' | 'openai-responses', pieces: Buffer[]): UsageTap {
  const tap = usageReader(format).tap();
  for (const p of pieces) tap.push(p);
  tap.end();
  return tap;
}

/** Every way to cut the bytes in two, byte-by-byte, and a few random many-piece cuts. */
function splits(text: string): Buffer[][] {
  const bytes = Buffer.from(text);
  const out: Buffer[][] = [[bytes], [...bytes].map((b) => Buffer.from([b]))];
  for (let i = 1; i < bytes.length; i++) out.push([bytes.subarray(0, i), bytes.subarray(i)]);
  let seed = 42;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let n = 0; n < 20; n++) {
    const cuts = [...new Set(Array.from({ length: 6 }, () => Math.floor(rand() * bytes.length)))].sort((a, b) => a - b);
    const pieces: Buffer[] = [];
    let at = 0;
    for (const c of [...cuts, bytes.length]) {
      pieces.push(bytes.subarray(at, c));
      at = c;
    }
    out.push(pieces);
  }
  return out;
}

interface Expect {
  usage: TokenUsage;
  sawUsage: boolean;
  model: string | undefined;
  complete: boolean;
  started: boolean;
  streamError?: { type: string; message: string };
}

function expectEverySplit(format: 'openai-chat' | 'openai-responses', text: string, want: Expect) {
  for (const pieces of splits(text)) {
    const tap = tapWith(format, pieces);
    expect({
      usage: tap.usage,
      sawUsage: tap.sawUsage,
      model: tap.model,
      complete: tap.complete,
      started: tap.started,
      streamError: tap.streamError,
    }).toEqual({
      streamError: undefined,
      ...want,
    });
  }
}

describe('openaiTokenUsage', () => {
  it.each<[string, unknown, TokenUsage | undefined]>([
    [
      'chat: cached part of the prompt',
      CHAT_USAGE,
      usage({ inputTokens: 176, cacheReadTokens: 1024, outputTokens: 345 }),
    ],
    ['chat: no details', { prompt_tokens: 10, completion_tokens: 5 }, usage({ inputTokens: 10, outputTokens: 5 })],
    [
      'responses: cached and reasoning',
      {
        input_tokens: 5000,
        input_tokens_details: { cached_tokens: 4096 },
        output_tokens: 900,
        output_tokens_details: { reasoning_tokens: 700 },
        total_tokens: 5900,
      },
      usage({ inputTokens: 904, cacheReadTokens: 4096, outputTokens: 900 }),
    ],
    [
      'cache writes are booked apart from input',
      {
        input_tokens: 5000,
        input_tokens_details: { cached_tokens: 1000, cache_write_tokens: 3000 },
        output_tokens: 10,
      },
      usage({ inputTokens: 1000, cacheReadTokens: 1000, cacheCreate5mTokens: 3000, outputTokens: 10 }),
    ],
    [
      'chat cache writes',
      { prompt_tokens: 100, completion_tokens: 1, prompt_tokens_details: { cache_write_tokens: 60 } },
      usage({ inputTokens: 40, cacheCreate5mTokens: 60, outputTokens: 1 }),
    ],
    ['embeddings', { prompt_tokens: 8, total_tokens: 8 }, usage({ inputTokens: 8 })],
    [
      'cached larger than the prompt is clamped',
      { prompt_tokens: 10, completion_tokens: 1, prompt_tokens_details: { cached_tokens: 50 } },
      usage({ cacheReadTokens: 10, outputTokens: 1 }),
    ],
    [
      'writes never exceed what reads left',
      { input_tokens: 10, input_tokens_details: { cached_tokens: 8, cache_write_tokens: 8 } },
      usage({ cacheReadTokens: 8, cacheCreate5mTokens: 2 }),
    ],
    [
      'counts that are not counts are not booked',
      { prompt_tokens: -3, completion_tokens: '7', prompt_tokens_details: { cached_tokens: Number.NaN } },
      usage({}),
    ],
    [
      'fractions are floored',
      { prompt_tokens: 10.9, completion_tokens: 2.5 },
      usage({ inputTokens: 10, outputTokens: 2 }),
    ],
    [
      'details null (older servers)',
      { prompt_tokens: 3, completion_tokens: 4, prompt_tokens_details: null },
      usage({ inputTokens: 3, outputTokens: 4 }),
    ],
    ['null', null, undefined],
    ['an array', [1, 2], undefined],
    ['a number', 7, undefined],
  ])('%s', (_name, raw, want) => {
    expect(openaiTokenUsage(raw)).toEqual(want);
  });
});

describe('openaiUsageFromJson (whole answers)', () => {
  it('chat completion', () => {
    const body = {
      id: 'chatcmpl-1',
      object: 'chat.completion',
      model: 'gpt-4o-2024-08-06',
      choices: [],
      usage: CHAT_USAGE,
    };
    expect(openaiUsageFromJson(body)).toEqual({
      usage: usage({ inputTokens: 176, cacheReadTokens: 1024, outputTokens: 345 }),
      model: 'gpt-4o-2024-08-06',
      sawUsage: true,
    });
  });
  it('response object', () => {
    const body = {
      id: 'resp_1',
      object: 'response',
      model: 'gpt-6.2-sol',
      status: 'completed',
      usage: { input_tokens: 30, input_tokens_details: { cached_tokens: 0 }, output_tokens: 9 },
    };
    expect(openaiUsageFromJson(body)).toEqual({
      usage: usage({ inputTokens: 30, outputTokens: 9 }),
      model: 'gpt-6.2-sol',
      sawUsage: true,
    });
  });
  it('embeddings list', () => {
    const body = {
      object: 'list',
      data: [{ object: 'embedding', index: 0, embedding: [0.1] }],
      model: 'text-embedding-3-small',
      usage: { prompt_tokens: 5, total_tokens: 5 },
    };
    expect(openaiUsageFromJson(body)).toEqual({
      usage: usage({ inputTokens: 5 }),
      model: 'text-embedding-3-small',
      sawUsage: true,
    });
  });
  it.each([undefined, null, 'text', {}, { usage: null, model: '' }])('nothing to book in %j', (body) => {
    expect(openaiUsageFromJson(body)).toEqual({ usage: usage({}), model: undefined, sawUsage: false });
  });
});

const CHAT_STREAM = [
  data(chunk({ role: 'assistant', content: '', refusal: null }, { usage: null })),
  data(chunk({ content: 'Hel' }, { usage: null })),
  // Text that looks like a usage object must not be booked: inside a JSON string it is escaped.
  data(chunk({ content: 'lo "usage": {"prompt_tokens": 999999} "error": 1' }, { usage: null })),
  data({ ...chunk({}, { usage: null }), choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }] }),
  data({
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'gpt-6.2-sol',
    choices: [],
    usage: CHAT_USAGE,
  }),
  data('[DONE]'),
].join('');

describe('Chat Completions stream tap (every byte split)', () => {
  it('reads the usage chunk and the end marker', () => {
    expectEverySplit('openai-chat', CHAT_STREAM, {
      usage: usage({ inputTokens: 176, cacheReadTokens: 1024, outputTokens: 345 }),
      sawUsage: true,
      model: 'gpt-6.2-sol',
      complete: true,
      started: true,
    });
  });

  it('CRLF line endings', () => {
    expectEverySplit('openai-chat', CHAT_STREAM.replace(/\n/g, '\r\n'), {
      usage: usage({ inputTokens: 176, cacheReadTokens: 1024, outputTokens: 345 }),
      sawUsage: true,
      model: 'gpt-6.2-sol',
      complete: true,
      started: true,
    });
  });

  it('a stream without a usage chunk books nothing', () => {
    const text = [
      data(chunk({ role: 'assistant', content: 'Hi' })),
      data({ ...chunk({}), choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }),
      data('[DONE]'),
    ].join('');
    expectEverySplit('openai-chat', text, {
      usage: usage({}),
      sawUsage: false,
      model: 'gpt-6.2-sol',
      complete: true,
      started: true,
    });
  });

  it('cut before the usage chunk: nothing reported, nothing booked, not complete', () => {
    const cut = CHAT_STREAM.slice(0, CHAT_STREAM.indexOf('"finish_reason":"stop"'));
    expectEverySplit('openai-chat', cut, {
      usage: usage({}),
      sawUsage: false,
      model: 'gpt-6.2-sol',
      complete: false,
      started: true,
    });
  });

  it('cut after the usage chunk, before [DONE]: the usage is booked, the stream is not complete', () => {
    const cut = CHAT_STREAM.slice(0, CHAT_STREAM.indexOf('data: [DONE]'));
    expectEverySplit('openai-chat', cut, {
      usage: usage({ inputTokens: 176, cacheReadTokens: 1024, outputTokens: 345 }),
      sawUsage: true,
      model: 'gpt-6.2-sol',
      complete: false,
      started: true,
    });
  });

  it('usage on the last content chunk (compatible servers) is read too', () => {
    const text = [
      data(chunk({ content: 'x' })),
      data({
        ...chunk({}),
        choices: [{ index: 0, delta: {}, finish_reason: 'stop' }],
        usage: { prompt_tokens: 7, completion_tokens: 3 },
      }),
      data('[DONE]'),
    ].join('');
    expectEverySplit('openai-chat', text, {
      usage: usage({ inputTokens: 7, outputTokens: 3 }),
      sawUsage: true,
      model: 'gpt-6.2-sol',
      complete: true,
      started: true,
    });
  });

  it("Azure's first chunk names no model: the model comes from the next", () => {
    const text = [
      data({
        choices: [],
        created: 0,
        id: '',
        model: '',
        object: '',
        prompt_filter_results: [{ prompt_index: 0, content_filter_results: {} }],
      }),
      data({ ...chunk({ role: 'assistant', content: '' }), model: 'gpt-4o-2024-11-20' }),
      data({
        ...chunk({}),
        model: 'gpt-4o-2024-11-20',
        choices: [],
        usage: { prompt_tokens: 12, completion_tokens: 4 },
      }),
      data('[DONE]'),
    ].join('');
    expectEverySplit('openai-chat', text, {
      usage: usage({ inputTokens: 12, outputTokens: 4 }),
      sawUsage: true,
      model: 'gpt-4o-2024-11-20',
      complete: true,
      started: true,
    });
  });

  it('an error chunk is the stream error', () => {
    const text = [
      data(chunk({ content: 'x' })),
      data({ error: { message: 'The server had an error', type: 'server_error', param: null, code: null } }),
    ].join('');
    expectEverySplit('openai-chat', text, {
      usage: usage({}),
      sawUsage: false,
      model: 'gpt-6.2-sol',
      complete: false,
      started: true,
      streamError: { type: 'server_error', message: 'The server had an error' },
    });
  });

  it('nothing at all: not started', () => {
    const tap = tapWith('openai-chat', [Buffer.from(': keep-alive\n\n')]);
    expect({ started: tap.started, sawUsage: tap.sawUsage, complete: tap.complete }).toEqual({
      started: false,
      sawUsage: false,
      complete: false,
    });
  });
});

const RESPONSE = { id: 'resp_1', object: 'response', created_at: 1, model: 'gpt-6.2-sol', output: [] };
const RESPONSE_USAGE = {
  input_tokens: 9000,
  input_tokens_details: { cached_tokens: 8192 },
  output_tokens: 420,
  output_tokens_details: { reasoning_tokens: 300 },
  total_tokens: 9420,
};
const responseEvents = (terminal: string, extra: Record<string, unknown> = {}) =>
  [
    named('response.created', { sequence_number: 0, response: { ...RESPONSE, status: 'in_progress', usage: null } }),
    named('response.in_progress', {
      sequence_number: 1,
      response: { ...RESPONSE, status: 'in_progress', usage: null },
    }),
    named('response.output_item.added', {
      sequence_number: 2,
      output_index: 0,
      item: { id: 'msg_1', type: 'message', role: 'assistant', content: [] },
    }),
    named('response.output_text.delta', {
      sequence_number: 3,
      item_id: 'msg_1',
      output_index: 0,
      content_index: 0,
      delta: 'Hi "usage": {"input_tokens": 5}',
    }),
    named('response.output_text.done', {
      sequence_number: 4,
      item_id: 'msg_1',
      output_index: 0,
      content_index: 0,
      text: 'Hi',
    }),
    named(terminal, {
      sequence_number: 5,
      response: { ...RESPONSE, status: terminal.slice('response.'.length), usage: RESPONSE_USAGE, ...extra },
    }),
  ].join('');
const RESPONSE_BOOKED = usage({ inputTokens: 808, cacheReadTokens: 8192, outputTokens: 420 });

describe('Responses stream tap (every byte split)', () => {
  it('response.completed carries the usage', () => {
    expectEverySplit('openai-responses', responseEvents('response.completed'), {
      usage: RESPONSE_BOOKED,
      sawUsage: true,
      model: 'gpt-6.2-sol',
      complete: true,
      started: true,
    });
  });

  it('response.incomplete (max tokens) is booked and ends the stream', () => {
    expectEverySplit(
      'openai-responses',
      responseEvents('response.incomplete', { incomplete_details: { reason: 'max_output_tokens' } }),
      {
        usage: RESPONSE_BOOKED,
        sawUsage: true,
        model: 'gpt-6.2-sol',
        complete: true,
        started: true,
      },
    );
  });

  it('response.failed is booked and is the stream error', () => {
    expectEverySplit(
      'openai-responses',
      responseEvents('response.failed', { error: { code: 'server_error', message: 'The model failed' } }),
      {
        usage: RESPONSE_BOOKED,
        sawUsage: true,
        model: 'gpt-6.2-sol',
        complete: true,
        started: true,
        streamError: { type: 'server_error', message: 'The model failed' },
      },
    );
  });

  it('cut before the terminal event: nothing booked, not complete', () => {
    const text = responseEvents('response.completed');
    const cut = text.slice(0, text.indexOf('event: response.completed'));
    expectEverySplit('openai-responses', cut, {
      usage: usage({}),
      sawUsage: false,
      model: 'gpt-6.2-sol',
      complete: false,
      started: true,
    });
  });

  it('an error event before anything else (failover is still possible)', () => {
    const text = named('error', {
      code: 'server_is_overloaded',
      message: 'Overloaded',
      param: null,
      sequence_number: 0,
    });
    expectEverySplit('openai-responses', text, {
      usage: usage({}),
      sawUsage: false,
      model: undefined,
      complete: false,
      started: true,
      streamError: { type: 'server_is_overloaded', message: 'Overloaded' },
    });
  });

  it('the ChatGPT backend nests its error', () => {
    const text = `event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: 'usage_limit_reached', message: 'You have hit your usage limit' } })}\n\n`;
    expectEverySplit('openai-responses', text, {
      usage: usage({}),
      sawUsage: false,
      model: undefined,
      complete: false,
      started: true,
      streamError: { type: 'usage_limit_reached', message: 'You have hit your usage limit' },
    });
  });

  it('bare data lines carry the event in their type', () => {
    const text = responseEvents('response.completed').replace(/^event: .*\n/gm, '');
    expectEverySplit('openai-responses', text, {
      usage: RESPONSE_BOOKED,
      sawUsage: true,
      model: 'gpt-6.2-sol',
      complete: true,
      started: true,
    });
  });
});

describe('cut notices', () => {
  it('a chat client reads an OpenAI error chunk', () => {
    const notice = usageReader('openai-chat').cutNotice?.().toString('utf8') ?? '';
    expect(notice).toMatch(/^data: \{.*\}\n\n$/);
    expect(JSON.parse(notice.slice(6))).toMatchObject({ error: { type: 'server_error', code: 'stream_cut' } });
  });
  it('a Responses client reads an error event', () => {
    const notice = usageReader('openai-responses').cutNotice?.().toString('utf8') ?? '';
    expect(notice.startsWith('event: error\ndata: ')).toBe(true);
    expect(JSON.parse(notice.split('data: ')[1] ?? '')).toMatchObject({ type: 'error', code: 'stream_cut' });
  });
});
