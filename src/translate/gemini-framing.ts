import { cutError, GeminiStreamParser, googleErrorOf } from '../wire/gemini.js';
import type { Bridge, BridgeContext, StreamTranslator } from './types.js';

/**
 * Google's two stream framings. The relay always asks the upstream for SSE (`alt=sse`: the usage
 * tap reads events), and gives the client the framing it asked for: SSE (`data: {json}\r\n\r\n`)
 * with `alt=sse`, otherwise one JSON array written element by element (`[{…}\n,\r\n{…}]`), as
 * Google does. Both Gemini formats use this; the bridges between them add a transform per chunk.
 */

export const wantsSse = (query: URLSearchParams): boolean => query.get('alt') === 'sse';

/**
 * A stream translator over Google's stream: each chunk is transformed and written in the client's
 * framing. An error body (in an event, or outside the framing, as Google sends one mid-stream) is
 * passed on as Google would send it; a stream that ends early gets one, so the client never takes a
 * cut answer for a whole one.
 */
export function geminiStream(
  ctx: BridgeContext,
  transform: (chunk: Record<string, unknown>) => unknown,
): StreamTranslator {
  const sse = wantsSse(ctx.clientQuery);
  let out: string[] = [];
  let elements = 0;
  let errored = false;

  const element = (json: unknown) => {
    out.push(`${elements === 0 ? '[' : '\n,\r\n'}${JSON.stringify(json)}`);
    elements++;
  };
  const error = (json: unknown) => {
    errored = true;
    const body = { error: googleErrorOf(json) ?? cutError() };
    // Outside the SSE framing, as Google writes it: SDKs recognise it there as an error.
    if (sse) out.push(`${JSON.stringify(body)}\n`);
    else element(body);
  };
  const parser = new GeminiStreamParser((json) => {
    if (googleErrorOf(json)) return error(json);
    if (typeof json !== 'object' || json === null || Array.isArray(json)) return;
    const chunk = transform(json as Record<string, unknown>);
    if (sse) out.push(`data: ${JSON.stringify(chunk)}\r\n\r\n`);
    else element(chunk);
  }, error);
  const take = (): Buffer => {
    if (out.length === 0) return EMPTY;
    const bytes = Buffer.from(out.join(''));
    out = [];
    return bytes;
  };

  return {
    contentType: sse ? 'text/event-stream; charset=utf-8' : 'application/json; charset=utf-8',
    push(chunk) {
      parser.push(chunk);
      return take();
    },
    end({ complete, message }) {
      parser.end();
      if (!complete && !errored) error({ error: cutError(message) });
      if (!sse) out.push(elements === 0 ? '[]' : ']');
      return take();
    },
  };
}

const EMPTY = Buffer.alloc(0);

const same = (chunk: Record<string, unknown>) => chunk;

/** Native Gemini on both sides: the body goes as it came (the model is in the URL); only the framing changes. */
export const geminiFraming: Bridge = {
  from: 'gemini',
  to: 'gemini',
  request: (body) => body,
  response: (body) => body,
  stream: (ctx) => geminiStream(ctx, same),
};

/** Code Assist on both sides: the account's model mapping applies; the provider sets the account's project. */
export const codeAssistFraming: Bridge = {
  from: 'code-assist',
  to: 'code-assist',
  request(body, ctx) {
    if (ctx.op === 'count_tokens') {
      const inner =
        typeof body.request === 'object' && body.request !== null ? (body.request as Record<string, unknown>) : {};
      return { ...body, request: { ...inner, model: `models/${ctx.upstreamModel}` } };
    }
    return { ...body, model: ctx.upstreamModel };
  },
  response: (body) => body,
  stream: (ctx) => geminiStream(ctx, same),
};
