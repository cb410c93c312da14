import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { describe, expect, it } from 'vitest';
import { AnthropicStreamTap } from '../../wire/anthropic.js';
import { BedrockStreamDecoder } from './event-stream-to-sse.js';

// ---- the wire format, built with the AWS codec exactly as Bedrock sends it -------------------

const codec = new EventStreamCodec(toUtf8, fromUtf8);
const str = (value: string) => ({ type: 'string' as const, value });

/** One `chunk` event: `{"bytes": base64(event JSON), "p": padding}`. */
function chunk(event: Record<string, unknown>): Buffer {
  const bytes = Buffer.from(JSON.stringify(event)).toString('base64');
  const body = Buffer.from(
    JSON.stringify({ bytes, p: 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0'.slice(0, 7) }),
  );
  return Buffer.from(
    codec.encode({
      headers: { ':event-type': str('chunk'), ':content-type': str('application/json'), ':message-type': str('event') },
      body,
    }),
  );
}

function exception(name: string, message: string): Buffer {
  const body = Buffer.from(JSON.stringify({ message }));
  return Buffer.from(
    codec.encode({
      headers: {
        ':exception-type': str(name),
        ':content-type': str('application/json'),
        ':message-type': str('exception'),
      },
      body,
    }),
  );
}

const MODEL = 'claude-sonnet-4-5-20250929';
const startUsage = {
  input_tokens: 3,
  cache_creation_input_tokens: 1200,
  cache_read_input_tokens: 9000,
  output_tokens: 1,
};
const EVENTS = {
  start: {
    type: 'message_start',
    message: {
      id: 'msg_bdrk_01',
      type: 'message',
      role: 'assistant',
      model: MODEL,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: startUsage,
    },
  },
  blockStart: { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
  delta1: { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'héllo 世界 🎉' } },
  delta2: {
    type: 'content_block_delta',
    index: 0,
    delta: { type: 'text_delta', text: ' "usage":{"output_tokens":999}' },
  },
  blockStop: { type: 'content_block_stop', index: 0 },
  messageDelta: {
    type: 'message_delta',
    delta: { stop_reason: 'end_turn', stop_sequence: null },
    usage: { output_tokens: 42 },
  },
  stop: {
    type: 'message_stop',
    'amazon-bedrock-invocationMetrics': {
      inputTokenCount: 3,
      outputTokenCount: 42,
      invocationLatency: 812,
      firstByteLatency: 301,
      cacheReadInputTokenCount: 9000,
      cacheWriteInputTokenCount: 1200,
    },
  },
};
const ORDER = [
  EVENTS.start,
  EVENTS.blockStart,
  EVENTS.delta1,
  EVENTS.delta2,
  EVENTS.blockStop,
  EVENTS.messageDelta,
  EVENTS.stop,
];
const STREAM = Buffer.concat(ORDER.map(chunk));

const sse = (e: Record<string, unknown>) => `event: ${String(e.type)}\ndata: ${JSON.stringify(e)}\n\n`;

function decode(parts: Buffer[]): string {
  const d = new BedrockStreamDecoder();
  const out = parts.map((p) => d.push(p));
  out.push(d.end());
  return Buffer.concat(out).toString('utf8');
}

function tapOf(text: string) {
  const tap = new AnthropicStreamTap();
  tap.push(Buffer.from(text));
  tap.end();
  return tap;
}

describe('BedrockStreamDecoder', () => {
  it('turns every chunk into its Anthropic SSE event, byte for byte', () => {
    expect(decode([STREAM])).toBe(ORDER.map(sse).join(''));
  });

  it('gives the same SSE when the binary stream is split at every byte boundary', () => {
    const whole = decode([STREAM]);
    for (let i = 1; i < STREAM.length; i++) {
      const split = decode([STREAM.subarray(0, i), STREAM.subarray(i)]);
      if (split !== whole) expect({ splitAt: i, split }).toEqual({ splitAt: i, split: whole });
    }
  });

  it('gives the same SSE fed one byte at a time, and in three uneven pieces', () => {
    const whole = decode([STREAM]);
    expect(decode([...STREAM].map((b) => Buffer.from([b])))).toBe(whole);
    const a = 37;
    const b = STREAM.length - 11;
    expect(decode([STREAM.subarray(0, a), STREAM.subarray(a, b), STREAM.subarray(b)])).toBe(whole);
  });

  it('holds nothing back once a message is complete, except message_delta until the next event', () => {
    const d = new BedrockStreamDecoder();
    expect(d.push(chunk(EVENTS.start)).toString()).toBe(sse(EVENTS.start));
    const half = chunk(EVENTS.blockStart);
    expect(d.push(half.subarray(0, 20)).length).toBe(0);
    expect(d.push(half.subarray(20)).toString()).toBe(sse(EVENTS.blockStart));
    expect(d.push(chunk(EVENTS.messageDelta)).length).toBe(0);
    expect(d.push(chunk(EVENTS.stop)).toString()).toBe(sse(EVENTS.messageDelta) + sse(EVENTS.stop));
  });

  it("the usage the relay books is the events' own, cache reads and writes included, booked once", () => {
    const tap = tapOf(decode([STREAM]));
    expect(tap.complete).toBe(true);
    expect(tap.model).toBe(MODEL);
    expect(tap.usage).toEqual({
      inputTokens: 3,
      outputTokens: 42,
      cacheCreate5mTokens: 1200,
      cacheCreate1hTokens: 0,
      cacheReadTokens: 9000,
      webSearchRequests: 0,
    });
  });

  it('the invocation metrics never override or add to what the events reported', () => {
    const inflated = {
      ...EVENTS.stop,
      'amazon-bedrock-invocationMetrics': {
        inputTokenCount: 300,
        outputTokenCount: 4200,
        cacheReadInputTokenCount: 1,
        cacheWriteInputTokenCount: 7,
      },
    };
    const text = decode([Buffer.concat([EVENTS.start, EVENTS.messageDelta, inflated].map(chunk))]);
    expect(text).toBe([EVENTS.start, EVENTS.messageDelta, inflated].map(sse).join(''));
    expect(tapOf(text).usage).toMatchObject({
      inputTokens: 3,
      outputTokens: 42,
      cacheCreate5mTokens: 1200,
      cacheReadTokens: 9000,
    });
  });

  it('cache counts the events left out come from the metrics, in message_delta (client and booking agree)', () => {
    const bare = {
      ...EVENTS.start,
      message: { ...EVENTS.start.message, usage: { input_tokens: 3, output_tokens: 1 } },
    };
    const text = decode([Buffer.concat([bare, EVENTS.blockStart, EVENTS.messageDelta, EVENTS.stop].map(chunk))]);
    const filled = {
      ...EVENTS.messageDelta,
      usage: { output_tokens: 42, cache_read_input_tokens: 9000, cache_creation_input_tokens: 1200 },
    };
    expect(text).toBe([bare, EVENTS.blockStart, filled, EVENTS.stop].map(sse).join(''));
    expect(tapOf(text).usage).toMatchObject({
      inputTokens: 3,
      outputTokens: 42,
      cacheCreate5mTokens: 1200,
      cacheReadTokens: 9000,
    });
  });

  it('a throttlingException mid-stream becomes an Anthropic rate_limit_error event after what came before', () => {
    const bytes = Buffer.concat([
      chunk(EVENTS.start),
      chunk(EVENTS.blockStart),
      exception('throttlingException', 'Too many tokens, please wait before trying again.'),
    ]);
    const text = decode([bytes]);
    const error = {
      type: 'error',
      error: {
        type: 'rate_limit_error',
        message: 'throttlingException: Too many tokens, please wait before trying again.',
      },
    };
    expect(text).toBe(sse(EVENTS.start) + sse(EVENTS.blockStart) + `event: error\ndata: ${JSON.stringify(error)}\n\n`);
    const tap = tapOf(text);
    expect(tap.streamError).toEqual(error.error);
    expect(tap.complete).toBe(false);
    expect(tap.usage.inputTokens).toBe(3);
  });

  it.each([
    ['serviceUnavailableException', 'overloaded_error'],
    ['modelStreamErrorException', 'api_error'],
    ['internalServerException', 'api_error'],
    ['validationException', 'invalid_request_error'],
    ['modelTimeoutException', 'timeout_error'],
    ['somethingNewException', 'api_error'],
  ])('%s → %s', (name, type) => {
    const tap = tapOf(decode([exception(name, 'boom')]));
    expect(tap.streamError).toEqual({ type, message: `${name}: boom` });
    expect(tap.sawUsage).toBe(false);
  });

  it('an exception right after message_delta releases the held message_delta first', () => {
    const text = decode([
      Buffer.concat([chunk(EVENTS.start), chunk(EVENTS.messageDelta), exception('internalServerException', 'x')]),
    ]);
    expect(text.indexOf('event: message_delta')).toBeGreaterThan(0);
    expect(text.indexOf('event: message_delta')).toBeLessThan(text.indexOf('event: error'));
  });

  it('an error message (:message-type error) becomes an api_error event', () => {
    const bytes = Buffer.from(
      codec.encode({
        headers: {
          ':message-type': str('error'),
          ':error-code': str('InternalFailure'),
          ':error-message': str('It broke'),
        },
        body: new Uint8Array(0),
      }),
    );
    expect(tapOf(decode([bytes])).streamError).toEqual({ type: 'api_error', message: 'InternalFailure: It broke' });
  });

  it('a stream cut inside a message gives the complete messages before it, and a held message_delta at the end', () => {
    const bytes = Buffer.concat([chunk(EVENTS.start), chunk(EVENTS.messageDelta), chunk(EVENTS.stop).subarray(0, 30)]);
    const text = decode([bytes]);
    expect(text).toBe(sse(EVENTS.start) + sse(EVENTS.messageDelta));
    const tap = tapOf(text);
    expect(tap.complete).toBe(false);
    expect(tap.usage).toMatchObject({ inputTokens: 3, outputTokens: 42, cacheReadTokens: 9000 });
  });

  const errorEvent = (text: string) => tapOf(text).streamError;

  it('a message whose checksum does not match: the messages before it, then an error event; the rest is ignored', () => {
    const bad = Buffer.from(chunk(EVENTS.blockStart));
    bad[bad.length - 20] = (bad[bad.length - 20] as number) ^ 0xff;
    const d = new BedrockStreamDecoder();
    const text = d
      .push(Buffer.concat([chunk(EVENTS.start), chunk(EVENTS.messageDelta), bad, chunk(EVENTS.blockStop)]))
      .toString();
    expect(text.startsWith(sse(EVENTS.start) + sse(EVENTS.messageDelta) + 'event: error\n')).toBe(true);
    expect(d.failure?.message).toMatch(/checksum/i);
    expect(errorEvent(text)).toEqual({
      type: 'api_error',
      message: `The upstream event stream could not be read: ${d.failure?.message}`,
    });
    expect(tapOf(text).usage).toMatchObject({ inputTokens: 3, outputTokens: 42, cacheReadTokens: 9000 });
    expect(d.push(chunk(EVENTS.stop)).length).toBe(0);
    expect(d.end().length).toBe(0);
  });

  it('an impossible length prefix: an error event', () => {
    const d = new BedrockStreamDecoder();
    expect(errorEvent(d.push(Buffer.from([0, 0, 0, 3, 1, 2, 3, 4])).toString())?.message).toMatch(/length 3/);
  });

  it('a chunk whose bytes are not JSON: an error event', () => {
    const body = Buffer.from(JSON.stringify({ bytes: Buffer.from('{not json').toString('base64') }));
    const frame = Buffer.from(
      codec.encode({ headers: { ':event-type': str('chunk'), ':message-type': str('event') }, body }),
    );
    const d = new BedrockStreamDecoder();
    expect(errorEvent(d.push(frame).toString())?.type).toBe('api_error');
    expect(d.failure).toBeInstanceOf(SyntaxError);
  });

  it('ignores events other than chunk', () => {
    const other = Buffer.from(
      codec.encode({
        headers: { ':message-type': str('event'), ':event-type': str('initial-response') },
        body: Buffer.from('{}'),
      }),
    );
    expect(decode([Buffer.concat([other, chunk(EVENTS.start)])])).toBe(sse(EVENTS.start));
  });
});
