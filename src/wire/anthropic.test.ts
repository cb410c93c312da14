import { describe, expect, it } from 'vitest';
import { ZERO_USAGE, type TokenUsage } from '../usage/pricing.js';
import { AnthropicStreamTap, AnthropicUsageAccumulator, usageFromMessage, type AnthropicUsage } from './anthropic.js';

const ZERO: TokenUsage = { ...ZERO_USAGE };

function accumulate(...usages: (AnthropicUsage | undefined)[]): TokenUsage {
  const acc = new AnthropicUsageAccumulator();
  for (const u of usages) acc.add(u);
  return acc.result();
}

describe('AnthropicUsageAccumulator: last value wins per field', () => {
  it.each<[string, AnthropicUsage[], Partial<TokenUsage>]>([
    [
      'message_delta output replaces message_start output; input and cache read survive',
      [{ input_tokens: 2095, cache_read_input_tokens: 40, output_tokens: 1 }, { output_tokens: 503 }],
      { inputTokens: 2095, cacheReadTokens: 40, outputTokens: 503 },
    ],
    [
      'cumulative input/cache fields in message_delta override message_start',
      [
        { input_tokens: 10, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 1 },
        { input_tokens: 2500, cache_creation_input_tokens: 300, cache_read_input_tokens: 1000, output_tokens: 40 },
      ],
      { inputTokens: 2500, cacheCreate5mTokens: 300, cacheReadTokens: 1000, outputTokens: 40 },
    ],
    [
      'three updates: each field keeps its latest report',
      [{ input_tokens: 5, output_tokens: 1 }, { output_tokens: 10 }, { cache_read_input_tokens: 7, output_tokens: 20 }],
      { inputTokens: 5, outputTokens: 20, cacheReadTokens: 7 },
    ],
    [
      'values that are not counts are ignored, not booked',
      [
        { input_tokens: 100, output_tokens: 5 },
        { input_tokens: -1, output_tokens: Number.NaN, cache_read_input_tokens: '9' as unknown as number },
      ],
      { inputTokens: 100, outputTokens: 5, cacheReadTokens: 0 },
    ],
  ])('%s', (_name, usages, expected) => {
    expect(accumulate(...usages)).toEqual({ ...ZERO, ...expected });
  });

  it('web search requests come from server_tool_use, last value wins', () => {
    const u = accumulate(
      { input_tokens: 10, server_tool_use: { web_search_requests: 0 } },
      { output_tokens: 3, server_tool_use: { web_search_requests: 3 } },
    );
    expect(u.webSearchRequests).toBe(3);
  });

  it('speed and inference_geo pass through', () => {
    const u = accumulate(
      { input_tokens: 1, speed: 'standard' },
      { output_tokens: 2, speed: 'fast', inference_geo: 'us' },
    );
    expect(u.speed).toBe('fast');
    expect(u.inferenceGeo).toBe('us');
  });

  it('speed and inference_geo are absent when never reported', () => {
    const u = accumulate({ input_tokens: 1, output_tokens: 2 });
    expect(u).not.toHaveProperty('speed');
    expect(u).not.toHaveProperty('inferenceGeo');
  });

  it('seen is false until a usage object arrives', () => {
    const acc = new AnthropicUsageAccumulator();
    acc.add(undefined);
    expect(acc.seen).toBe(false);
    acc.add({ output_tokens: 0 });
    expect(acc.seen).toBe(true);
  });
});

/**
 * Cache writes: the total (`cache_creation_input_tokens`) and the breakdown (`cache_creation`)
 * may each be present or absent, and (across message_start / message_delta) may disagree.
 * Rule the expectations follow: the 1-hour part is what the breakdown names as 1-hour; the number
 * of tokens written is the larger of the total and the breakdown's sum (never drop a token), and
 * whatever is not 1-hour is 5-minute.
 */
describe('AnthropicUsageAccumulator: cache writes are booked exactly once', () => {
  it.each<[string, AnthropicUsage[], { m5: number; h1: number }]>([
    ['only the total', [{ cache_creation_input_tokens: 500 }], { m5: 500, h1: 0 }],
    [
      'only the breakdown',
      [{ cache_creation: { ephemeral_5m_input_tokens: 200, ephemeral_1h_input_tokens: 300 } }],
      { m5: 200, h1: 300 },
    ],
    ['only a 1h breakdown', [{ cache_creation: { ephemeral_1h_input_tokens: 300 } }], { m5: 0, h1: 300 }],
    [
      'both, consistent',
      [
        {
          cache_creation_input_tokens: 500,
          cache_creation: { ephemeral_5m_input_tokens: 200, ephemeral_1h_input_tokens: 300 },
        },
      ],
      { m5: 200, h1: 300 },
    ],
    [
      'both, total larger than the breakdown: the rest is 5-minute',
      [
        {
          cache_creation_input_tokens: 600,
          cache_creation: { ephemeral_5m_input_tokens: 200, ephemeral_1h_input_tokens: 300 },
        },
      ],
      { m5: 300, h1: 300 },
    ],
    [
      'both, breakdown larger than the total (5m part): the breakdown is booked',
      [
        {
          cache_creation_input_tokens: 400,
          cache_creation: { ephemeral_5m_input_tokens: 200, ephemeral_1h_input_tokens: 300 },
        },
      ],
      { m5: 200, h1: 300 },
    ],
    [
      'both, 5m part alone larger than the total: the breakdown is booked',
      [
        {
          cache_creation_input_tokens: 50,
          cache_creation: { ephemeral_5m_input_tokens: 100, ephemeral_1h_input_tokens: 0 },
        },
      ],
      { m5: 100, h1: 0 },
    ],
    [
      'both, 1h part alone larger than the total: the breakdown is booked',
      [
        {
          cache_creation_input_tokens: 50,
          cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 100 },
        },
      ],
      { m5: 0, h1: 100 },
    ],
    [
      'breakdown in message_start, cumulative total only in message_delta',
      [
        {
          cache_creation_input_tokens: 500,
          cache_creation: { ephemeral_5m_input_tokens: 200, ephemeral_1h_input_tokens: 300 },
        },
        { cache_creation_input_tokens: 500, output_tokens: 9 },
      ],
      { m5: 200, h1: 300 },
    ],
    [
      'message_delta total grows past message_start breakdown',
      [
        {
          cache_creation_input_tokens: 0,
          cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
        },
        { cache_creation_input_tokens: 700 },
      ],
      { m5: 700, h1: 0 },
    ],
  ])('%s', (_name, usages, { m5, h1 }) => {
    const u = accumulate(...usages);
    expect({ m5: u.cacheCreate5mTokens, h1: u.cacheCreate1hTokens }).toEqual({ m5, h1 });
  });
});

describe('usageFromMessage (non-stream JSON body)', () => {
  it('reads every usage field and the model', () => {
    const body = {
      id: 'msg_01',
      type: 'message',
      role: 'assistant',
      model: 'claude-opus-4-1-20250805',
      content: [{ type: 'text', text: 'hi' }],
      stop_reason: 'end_turn',
      usage: {
        input_tokens: 12,
        cache_creation_input_tokens: 1500,
        cache_read_input_tokens: 20_000,
        cache_creation: { ephemeral_5m_input_tokens: 1000, ephemeral_1h_input_tokens: 500 },
        output_tokens: 34,
        server_tool_use: { web_search_requests: 2 },
        service_tier: 'standard',
        inference_geo: 'us',
      },
    };
    expect(usageFromMessage(body)).toEqual({
      model: 'claude-opus-4-1-20250805',
      sawUsage: true,
      usage: {
        inputTokens: 12,
        outputTokens: 34,
        cacheCreate5mTokens: 1000,
        cacheCreate1hTokens: 500,
        cacheReadTokens: 20_000,
        webSearchRequests: 2,
        inferenceGeo: 'us',
      },
    });
  });

  it.each<[string, unknown]>([
    ['null', null],
    ['an error body', { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }],
    ['a string', 'not json'],
  ])('%s: no usage, zero tokens', (_name, body) => {
    const r = usageFromMessage(body);
    expect(r.sawUsage).toBe(false);
    expect(r.usage).toEqual(ZERO);
    expect(r.model).toBeUndefined();
  });
});

// ---- the stream tap -------------------------------------------------------------------------

const frame = (event: string, payload: unknown) => `event: ${event}\ndata: ${JSON.stringify(payload)}\n\n`;

const MESSAGE_START = frame('message_start', {
  type: 'message_start',
  message: {
    id: 'msg_01',
    type: 'message',
    role: 'assistant',
    model: 'claude-sonnet-4-5-20250929',
    content: [],
    usage: {
      input_tokens: 2095,
      cache_creation_input_tokens: 800,
      cache_read_input_tokens: 12_000,
      cache_creation: { ephemeral_5m_input_tokens: 300, ephemeral_1h_input_tokens: 500 },
      output_tokens: 1,
    },
  },
});
const BODY =
  frame('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }) +
  frame('ping', { type: 'ping' }) +
  // Text that looks like usage must not be booked: deltas are not read at all.
  frame('content_block_delta', {
    type: 'content_block_delta',
    index: 0,
    delta: { type: 'text_delta', text: 'héllo 世界 🎉 "usage":{"output_tokens":999}' },
  }) +
  frame('content_block_stop', { type: 'content_block_stop', index: 0 });
const MESSAGE_DELTA = frame('message_delta', {
  type: 'message_delta',
  delta: { stop_reason: 'end_turn', stop_sequence: null },
  usage: {
    input_tokens: 2095,
    cache_creation_input_tokens: 800,
    cache_read_input_tokens: 12_000,
    output_tokens: 503,
    server_tool_use: { web_search_requests: 1 },
  },
});
const MESSAGE_STOP = frame('message_stop', { type: 'message_stop' });
const FULL = Buffer.from(MESSAGE_START + BODY + MESSAGE_DELTA + MESSAGE_STOP);

const FULL_USAGE: TokenUsage = {
  inputTokens: 2095,
  outputTokens: 503,
  cacheCreate5mTokens: 300,
  cacheCreate1hTokens: 500,
  cacheReadTokens: 12_000,
  webSearchRequests: 1,
};

function tapOf(chunks: Buffer[]): AnthropicStreamTap {
  const tap = new AnthropicStreamTap();
  for (const c of chunks) tap.push(c);
  tap.end();
  return tap;
}

const summary = (t: AnthropicStreamTap) => ({
  usage: t.usage,
  model: t.model,
  complete: t.complete,
  sawUsage: t.sawUsage,
  streamError: t.streamError,
});

describe('AnthropicStreamTap', () => {
  it('books a complete stream', () => {
    expect(summary(tapOf([FULL]))).toEqual({
      usage: FULL_USAGE,
      model: 'claude-sonnet-4-5-20250929',
      complete: true,
      sawUsage: true,
      streamError: undefined,
    });
  });

  it('gives the same result when the stream is split at every byte boundary', () => {
    const whole = summary(tapOf([FULL]));
    for (let i = 1; i < FULL.length; i++) {
      const split = summary(tapOf([FULL.subarray(0, i), FULL.subarray(i)]));
      if (JSON.stringify(split) !== JSON.stringify(whole))
        expect({ splitAt: i, split }).toEqual({ splitAt: i, split: whole });
    }
  });

  it('gives the same result fed one byte at a time with CRLF line endings', () => {
    const crlf = Buffer.from(FULL.toString('utf8').replace(/\n/g, '\r\n'));
    expect(summary(tapOf([...crlf].map((b) => Buffer.from([b]))))).toEqual(summary(tapOf([FULL])));
  });

  it('a stream cut after message_start still books its input, and is not complete', () => {
    const tap = tapOf([Buffer.from(MESSAGE_START + BODY)]);
    expect(tap.complete).toBe(false);
    expect(tap.sawUsage).toBe(true);
    expect(tap.usage).toEqual({ ...FULL_USAGE, outputTokens: 1, webSearchRequests: 0 });
  });

  it('a stream cut after message_delta (no message_stop) books the final counts, not complete', () => {
    const tap = tapOf([Buffer.from(MESSAGE_START + BODY + MESSAGE_DELTA)]);
    expect(tap.complete).toBe(false);
    expect(tap.usage).toEqual(FULL_USAGE);
  });

  it('a stream cut inside message_start books nothing and says so', () => {
    const cut = Buffer.from(MESSAGE_START).subarray(0, 60);
    const tap = tapOf([cut]);
    expect(tap.sawUsage).toBe(false);
    expect(tap.usage).toEqual(ZERO);
    expect(tap.complete).toBe(false);
  });

  it('an error event sets streamError and keeps the input booked', () => {
    const error = frame('error', { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
    const tap = tapOf([Buffer.from(MESSAGE_START + BODY + error)]);
    expect(tap.streamError).toEqual({ type: 'overloaded_error', message: 'Overloaded' });
    expect(tap.complete).toBe(false);
    expect(tap.usage.inputTokens).toBe(2095);
  });

  it('an error event without details still sets streamError', () => {
    const tap = tapOf([Buffer.from(MESSAGE_START + 'event: error\ndata: {}\n\n')]);
    expect(tap.streamError).toEqual({ type: 'api_error', message: '' });
  });

  it('speed and inference_geo reported in message_delta reach the usage', () => {
    const delta = frame('message_delta', {
      type: 'message_delta',
      delta: {},
      usage: { output_tokens: 7, speed: 'fast', inference_geo: 'us' },
    });
    const tap = tapOf([Buffer.from(MESSAGE_START + delta + MESSAGE_STOP)]);
    expect(tap.usage).toMatchObject({ outputTokens: 7, speed: 'fast', inferenceGeo: 'us' });
  });
});
