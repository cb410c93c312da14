import { describe, expect, it } from 'vitest';
import type { TokenUsage } from '../usage/pricing.js';
import {
  codeAssistReader,
  GeminiStreamParser,
  GeminiStreamTap,
  geminiReader,
  nativeResponse,
  codeAssistResponse,
  usageFromMetadata,
  type GeminiUsageMetadata,
} from './gemini.js';

const usage = (u: Partial<TokenUsage>): TokenUsage => ({
  inputTokens: 0,
  outputTokens: 0,
  cacheCreate5mTokens: 0,
  cacheCreate1hTokens: 0,
  cacheReadTokens: 0,
  webSearchRequests: 0,
  ...u,
});

describe('usageFromMetadata', () => {
  it.each<[string, GeminiUsageMetadata, Partial<TokenUsage>]>([
    ['nothing reported', {}, {}],
    [
      'prompt and candidates',
      { promptTokenCount: 25, candidatesTokenCount: 12, totalTokenCount: 37 },
      { inputTokens: 25, outputTokens: 12 },
    ],
    [
      'the prompt count includes the cached part',
      { promptTokenCount: 10_000, cachedContentTokenCount: 8_192, candidatesTokenCount: 5 },
      { inputTokens: 1_808, cacheReadTokens: 8_192, outputTokens: 5 },
    ],
    [
      'thoughts are output',
      { promptTokenCount: 7, candidatesTokenCount: 20, thoughtsTokenCount: 300 },
      { inputTokens: 7, outputTokens: 320 },
    ],
    [
      'tool-use prompts are input on top of the prompt',
      { promptTokenCount: 100, toolUsePromptTokenCount: 40, candidatesTokenCount: 3 },
      { inputTokens: 140, outputTokens: 3 },
    ],
    [
      'everything at once',
      {
        promptTokenCount: 5_000,
        cachedContentTokenCount: 4_000,
        toolUsePromptTokenCount: 12,
        candidatesTokenCount: 90,
        thoughtsTokenCount: 410,
      },
      { inputTokens: 1_012, cacheReadTokens: 4_000, outputTokens: 500 },
    ],
    [
      'a cached count above the prompt never books negative input',
      { promptTokenCount: 10, cachedContentTokenCount: 15 },
      { inputTokens: 0, cacheReadTokens: 15 },
    ],
    [
      'garbage counts are zero',
      { promptTokenCount: -3, candidatesTokenCount: Number.NaN, thoughtsTokenCount: '9' as unknown as number },
      {},
    ],
    [
      'fractions are floored',
      { promptTokenCount: 10.9, candidatesTokenCount: 2.2 },
      { inputTokens: 10, outputTokens: 2 },
    ],
  ])('%s', (_name, metadata, expected) => {
    expect(usageFromMetadata(metadata)).toEqual(usage(expected));
  });
});

describe('fromJson (a whole response)', () => {
  const response = {
    candidates: [{ content: { parts: [{ text: 'hi' }], role: 'model' }, finishReason: 'STOP' }],
    usageMetadata: {
      promptTokenCount: 30,
      cachedContentTokenCount: 10,
      candidatesTokenCount: 4,
      thoughtsTokenCount: 6,
    },
    modelVersion: 'gemini-2.5-pro',
  };
  it('native: usage and model', () => {
    expect(geminiReader.fromJson(response)).toEqual({
      usage: usage({ inputTokens: 20, cacheReadTokens: 10, outputTokens: 10 }),
      model: 'gemini-2.5-pro',
      sawUsage: true,
    });
  });
  it('Code Assist: the same, inside `response`', () => {
    expect(codeAssistReader.fromJson({ response, traceId: 't1' })).toEqual(geminiReader.fromJson(response));
  });
  it.each<[string, unknown]>([
    ['null', null],
    ['an error body', { error: { code: 400, message: 'bad', status: 'INVALID_ARGUMENT' } }],
    ['an array', [response]],
    ['no usageMetadata', { candidates: [] }],
  ])('%s: nothing booked', (_name, body) => {
    expect(geminiReader.fromJson(body).sawUsage).toBe(false);
    expect(geminiReader.fromJson(body).usage).toEqual(usage({}));
  });
  it('a native response read as Code Assist books nothing (it is not wrapped)', () => {
    expect(codeAssistReader.fromJson(response).sawUsage).toBe(false);
  });
});

// ---- streams ---------------------------------------------------------------------------------

const chunk = (text: string, metadata: GeminiUsageMetadata, finish?: string) => ({
  candidates: [
    { content: { parts: [{ text }], role: 'model' }, index: 0, ...(finish ? { finishReason: finish } : {}) },
  ],
  usageMetadata: metadata,
  modelVersion: 'gemini-2.5-flash',
  responseId: 'r1',
});
const CHUNKS = [
  chunk('héllo ', { promptTokenCount: 1_200, candidatesTokenCount: 2, totalTokenCount: 1_202 }),
  // Text that looks like usage is just text.
  chunk('世界 🎉 "usageMetadata":{"promptTokenCount":999999}', { promptTokenCount: 1_200, candidatesTokenCount: 9 }),
  chunk(
    '!',
    {
      promptTokenCount: 1_200,
      cachedContentTokenCount: 1_024,
      candidatesTokenCount: 11,
      thoughtsTokenCount: 64,
      totalTokenCount: 1_275,
    },
    'STOP',
  ),
];
const FULL_USAGE = usage({ inputTokens: 176, cacheReadTokens: 1_024, outputTokens: 75 });
const sse = (chunks: unknown[]) => chunks.map((c) => `data: ${JSON.stringify(c)}\r\n\r\n`).join('');
const RAW_ERROR = `${JSON.stringify({ error: { code: 503, message: 'The model is overloaded.', status: 'UNAVAILABLE' } }, null, 2)}\n`;

function tapOf(chunks: Buffer[], wrap = false): GeminiStreamTap {
  const tap = new GeminiStreamTap(wrap ? codeAssistResponse : nativeResponse);
  for (const c of chunks) tap.push(c);
  tap.end();
  return tap;
}
const summary = (t: GeminiStreamTap) => ({
  usage: t.usage,
  model: t.model,
  complete: t.complete,
  sawUsage: t.sawUsage,
  started: t.started,
  streamError: t.streamError,
});

describe('GeminiStreamTap', () => {
  const FULL = Buffer.from(sse(CHUNKS));

  it('books a complete stream: the last usageMetadata, the model, complete', () => {
    expect(summary(tapOf([FULL]))).toEqual({
      usage: FULL_USAGE,
      model: 'gemini-2.5-flash',
      complete: true,
      sawUsage: true,
      started: true,
      streamError: undefined,
    });
  });

  it('gives the same result when the stream is split at every byte boundary', () => {
    const whole = JSON.stringify(summary(tapOf([FULL])));
    for (let i = 1; i < FULL.length; i++) {
      const split = JSON.stringify(summary(tapOf([FULL.subarray(0, i), FULL.subarray(i)])));
      if (split !== whole) expect({ splitAt: i, split }).toEqual({ splitAt: i, split: whole });
    }
  });

  it('gives the same result fed one byte at a time, with LF line endings', () => {
    const lf = Buffer.from(sse(CHUNKS).replace(/\r\n/g, '\n'));
    expect(summary(tapOf([...lf].map((b) => Buffer.from([b]))))).toEqual(summary(tapOf([FULL])));
  });

  it('Code Assist: the same stream wrapped in `response` books the same', () => {
    const wrapped = Buffer.from(sse(CHUNKS.map((c) => ({ response: c, traceId: 'abc' }))));
    expect(summary(tapOf([wrapped], true))).toEqual(summary(tapOf([FULL])));
  });

  it('a stream cut after its first chunk books the prompt it reported, and is not complete', () => {
    const tap = tapOf([Buffer.from(sse(CHUNKS.slice(0, 1)))]);
    expect(tap.complete).toBe(false);
    expect(tap.sawUsage).toBe(true);
    expect(tap.usage).toEqual(usage({ inputTokens: 1_200, outputTokens: 2 }));
  });

  it('a stream cut inside its first event books nothing and has not started', () => {
    const tap = tapOf([FULL.subarray(0, 40)]);
    expect(tap.sawUsage).toBe(false);
    expect(tap.started).toBe(false);
    expect(tap.usage).toEqual(usage({}));
  });

  it('the last event without its blank line still counts at the end', () => {
    const tap = tapOf([Buffer.from(sse(CHUNKS).replace(/\r\n\r\n$/, ''))]);
    expect(summary(tap)).toEqual(summary(tapOf([FULL])));
  });

  it.each([
    ['pretty-printed, outside the SSE framing (as Google sends it)', RAW_ERROR],
    [
      'on one line, outside the framing',
      `${JSON.stringify({ error: { code: 503, message: 'The model is overloaded.', status: 'UNAVAILABLE' } })}\n`,
    ],
    [
      'in a data event',
      `data: ${JSON.stringify({ error: { code: 503, message: 'The model is overloaded.', status: 'UNAVAILABLE' } })}\r\n\r\n`,
    ],
    [
      'as a one-element array',
      `${JSON.stringify([{ error: { code: 503, message: 'The model is overloaded.', status: 'UNAVAILABLE' } }], null, 2)}\n`,
    ],
  ])('an error body mid-stream (%s) is the stream error; the usage so far stays booked', (_name, error) => {
    const bytes = Buffer.from(sse(CHUNKS.slice(0, 2)) + error);
    for (let i = 1; i < bytes.length; i += 7) {
      const tap = tapOf([bytes.subarray(0, i), bytes.subarray(i)]);
      expect(tap.streamError, `split at ${i}`).toEqual({
        type: 'overloaded_error',
        message: 'The model is overloaded.',
      });
      expect(tap.complete).toBe(false);
      expect(tap.usage).toEqual(usage({ inputTokens: 1_200, outputTokens: 9 }));
    }
  });

  it('an error body before any chunk: started, with an error and no usage (the relay fails over)', () => {
    const tap = tapOf([Buffer.from(RAW_ERROR)]);
    expect(summary(tap)).toMatchObject({ started: true, sawUsage: false, streamError: { type: 'overloaded_error' } });
  });

  it.each<[string, object, string]>([
    [
      'a quota (429 RESOURCE_EXHAUSTED) is a rate limit',
      { code: 429, message: 'Quota exceeded', status: 'RESOURCE_EXHAUSTED' },
      'rate_limit_error',
    ],
    [
      '503 UNAVAILABLE is the model overloaded',
      { code: 503, message: 'Overloaded', status: 'UNAVAILABLE' },
      'overloaded_error',
    ],
    ["anything else keeps Google's status", { code: 500, message: 'Internal', status: 'INTERNAL' }, 'INTERNAL'],
  ])('error type: %s', (_name, error, type) => {
    expect(tapOf([Buffer.from(`${JSON.stringify({ error })}\n`)]).streamError?.type).toBe(type);
  });

  it('FINISH_REASON_UNSPECIFIED does not end the answer', () => {
    const tap = tapOf([Buffer.from(sse([chunk('x', { promptTokenCount: 1 }, 'FINISH_REASON_UNSPECIFIED')]))]);
    expect(tap.complete).toBe(false);
  });

  it('comments, event names and ids are ignored', () => {
    const tap = tapOf([Buffer.from(`: keep-alive\r\nevent: message\r\nid: 7\r\n${sse(CHUNKS)}`)]);
    expect(summary(tap)).toEqual(summary(tapOf([FULL])));
  });
});

describe('GeminiStreamParser', () => {
  it('a brace line that never becomes JSON does not swallow the events after it', () => {
    const seen: unknown[] = [];
    const parser = new GeminiStreamParser(
      (j) => seen.push(j),
      (j) => seen.push({ raw: j }),
    );
    parser.push(Buffer.from('{ not json\r\ndata: {"a":1}\r\n\r\n'));
    parser.end();
    expect(seen).toEqual([{ a: 1 }]);
  });

  it('data split over several data lines is joined', () => {
    const seen: unknown[] = [];
    const parser = new GeminiStreamParser(
      (j) => seen.push(j),
      () => {},
    );
    parser.push(Buffer.from('data: {"a":\ndata: 2}\n\n'));
    parser.end();
    expect(seen).toEqual([{ a: 2 }]);
  });
});

describe('cutNotice', () => {
  it('is a Google error body on a line of its own', () => {
    const notice = geminiReader.cutNotice?.().toString('utf8') ?? '';
    expect(JSON.parse(notice)).toEqual({
      error: { code: 502, message: expect.stringContaining('ended before') as unknown, status: 'UNAVAILABLE' },
    });
    expect(notice.endsWith('\n')).toBe(true);
  });
});
