import { pipeline, Transform } from 'node:stream';
import type { UpstreamResponse } from '../../upstream/types.js';
import type { UpstreamCall } from '../types.js';
import { anthropicError, errorMessage, errorName, httpError } from './errors.js';
import { BedrockStreamDecoder } from './event-stream-to-sse.js';

/**
 * Bedrock's answers as the Anthropic Messages API would give them, so the rest of the relay (usage
 * taps, failover, error rendering) treats a Bedrock account like any Claude account:
 *  - the event stream of InvokeModelWithResponseStream → Anthropic SSE (event-stream-to-sse.ts);
 *  - InvokeModel's Claude message JSON, as is (usage counts it left out filled from the
 *    `x-amzn-bedrock-*-token-count` headers);
 *  - CountTokens' `{inputTokens}` → `{input_tokens}`;
 *  - errors → Anthropic error bodies, with the statuses of errors.ts.
 * The body is transformed as it is read: nothing here waits for the upstream.
 */
export function decodeBedrock(res: UpstreamResponse, call: UpstreamCall): UpstreamResponse {
  const contentType = String(res.headers['content-type'] ?? '');
  if (res.statusCode >= 400) {
    const name = errorName(header(res, 'x-amzn-errortype'));
    const { status, type } = httpError(res.statusCode, name);
    return withBody(
      { ...res, statusCode: status },
      'application/json',
      whole(64 * 1024, (raw) => {
        let message: string | undefined;
        try {
          message = errorMessage(JSON.parse(raw.toString('utf8')));
        } catch {
          message = undefined;
        }
        const text = `${name ?? `HTTP ${res.statusCode}`}: ${message ?? 'no message'}`;
        return Buffer.from(JSON.stringify(anthropicError(type, text)));
      }),
    );
  }
  if (call.op === 'count_tokens') {
    return withBody(
      res,
      'application/json',
      whole(Infinity, (raw) => {
        const tokens = (JSON.parse(raw.toString('utf8')) as { inputTokens?: unknown }).inputTokens;
        if (typeof tokens !== 'number') throw new Error('CountTokens answered without inputTokens');
        return Buffer.from(JSON.stringify({ input_tokens: tokens }));
      }),
    );
  }
  if (contentType.startsWith('application/vnd.amazon.eventstream')) {
    const decoder = new BedrockStreamDecoder();
    return withBody(
      res,
      'text/event-stream; charset=utf-8',
      new Transform({
        transform(chunk: Buffer, _enc, done) {
          done(null, decoder.push(chunk));
        },
        flush(done) {
          done(null, decoder.end());
        },
      }),
    );
  }
  return withBody(
    res,
    contentType || 'application/json',
    whole(Infinity, (raw) => fillUsage(raw, res)),
  );
}

const header = (res: UpstreamResponse, name: string): string | undefined => {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

/** The response with its body piped through `transform`; an upstream failure or abort reaches the reader. */
function withBody(res: UpstreamResponse, contentType: string, transform: Transform): UpstreamResponse {
  // The callback only swallows what the reader already sees: the transform is destroyed with the error.
  pipeline(res.body, transform, () => {});
  return {
    ...res,
    headers: { ...res.headers, 'content-type': contentType },
    body: transform as unknown as UpstreamResponse['body'],
  };
}

/** A transform that reads the whole body (up to `cap` bytes) and emits `map` of it. */
function whole(cap: number, map: (raw: Buffer) => Buffer): Transform {
  const chunks: Buffer[] = [];
  let size = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.length;
      if (size <= cap) chunks.push(chunk);
      done();
    },
    flush(done) {
      try {
        done(null, map(Buffer.concat(chunks)));
      } catch (err) {
        done(err as Error);
      }
    },
  });
}

const USAGE_HEADERS = [
  ['input_tokens', 'x-amzn-bedrock-input-token-count'],
  ['output_tokens', 'x-amzn-bedrock-output-token-count'],
  ['cache_read_input_tokens', 'x-amzn-bedrock-cache-read-input-token-count'],
  ['cache_creation_input_tokens', 'x-amzn-bedrock-cache-write-input-token-count'],
] as const;

/** Usage counts the message left out, from Bedrock's headers; what the message says always wins. */
function fillUsage(raw: Buffer, res: UpstreamResponse): Buffer {
  let message: { usage?: Record<string, unknown> };
  try {
    message = JSON.parse(raw.toString('utf8')) as typeof message;
  } catch {
    return raw;
  }
  if (!message || typeof message !== 'object' || !message.usage || typeof message.usage !== 'object') return raw;
  let changed = false;
  for (const [field, name] of USAGE_HEADERS) {
    const value = Number(header(res, name));
    if (typeof message.usage[field] === 'number' || !/^\d+$/.test(header(res, name) ?? '')) continue;
    message.usage[field] = value;
    changed = true;
  }
  return changed ? Buffer.from(JSON.stringify(message)) : raw;
}
