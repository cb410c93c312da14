import { chatCutNotice } from '../wire/openai.js';
import { wantsUsage } from './openai-chat/request.js';
import type { Bridge, BridgeContext, StreamTranslator } from './types.js';

/**
 * Chat Completions to a Chat Completions upstream (OpenAI, Azure): the body passes as it is, with
 * the account's model name, except that a stream always asks for `stream_options.include_usage`.
 * Without it OpenAI reports no usage in a stream and nothing could be booked. A client that did
 * not ask must not see what it did not ask for: the extra usage-only chunk (`choices: []`) is
 * dropped, and a usage the upstream put on a content chunk is taken off it. Every other event
 * passes byte for byte.
 */

const clientAsked = (ctx: BridgeContext): boolean => wantsUsage(ctx.clientBody);

function request(body: Record<string, unknown>, ctx: BridgeContext): Record<string, unknown> {
  const out: Record<string, unknown> = { ...body, model: ctx.upstreamModel };
  if (body.stream === true && !clientAsked(ctx)) {
    const opts =
      body.stream_options && typeof body.stream_options === 'object'
        ? (body.stream_options as Record<string, unknown>)
        : {};
    out.stream_options = { ...opts, include_usage: true };
  }
  return out;
}

const LF = 0x0a;
const CR = 0x0d;

/** True when bytes [start, end) are an empty line (nothing, or a lone CR). */
const blank = (buf: Buffer, start: number, end: number) => end === start || (end === start + 1 && buf[start] === CR);

/**
 * Splits the upstream's bytes into whole SSE events (each up to and including its blank line) and
 * lets `keep` rewrite or drop each; a partial event waits for the rest of its bytes.
 */
export class SseEventFilter implements StreamTranslator {
  private pending: Buffer = Buffer.alloc(0);
  private sawError = false;

  constructor(private readonly rewrite: (data: string) => string | null | undefined) {}

  push(chunk: Buffer): Buffer {
    const buf = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    const out: Buffer[] = [];
    let eventStart = 0;
    let lineStart = 0;
    for (;;) {
      const nl = buf.indexOf(LF, lineStart);
      if (nl === -1) break;
      if (blank(buf, lineStart, nl)) {
        out.push(this.event(buf.subarray(eventStart, nl + 1)));
        eventStart = nl + 1;
      }
      lineStart = nl + 1;
    }
    this.pending = Buffer.from(buf.subarray(eventStart));
    return out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out);
  }

  end(info: { complete: boolean; message?: string }): Buffer {
    const rest = this.pending;
    this.pending = Buffer.alloc(0);
    // A finished stream may lack its last blank line; a cut one ends mid-event, which no client can parse.
    if (info.complete) return rest.length > 0 ? this.event(rest) : rest;
    return this.sawError ? Buffer.alloc(0) : chatCutNotice(info.message);
  }

  private event(raw: Buffer): Buffer {
    const text = raw.toString('utf8');
    const data = text
      .split(/\r?\n/)
      .filter((l) => l.startsWith('data:'))
      .map((l) => l.slice(l.startsWith('data: ') ? 6 : 5))
      .join('\n');
    if (/"error"\s*:/.test(data)) this.sawError = true;
    const rewritten = data ? this.rewrite(data) : undefined;
    if (rewritten === undefined) return raw;
    if (rewritten === null) return Buffer.alloc(0);
    return Buffer.from(`data: ${rewritten}\n\n`);
  }
}

const MAY_CARRY_USAGE = /"usage"\s*:\s*\{/;

/** Drops the usage-only chunk; takes a usage off a chunk that also carries choices. */
export function withoutUsage(data: string): string | null | undefined {
  if (!MAY_CARRY_USAGE.test(data)) return undefined;
  let chunk: Record<string, unknown>;
  try {
    chunk = JSON.parse(data) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (!chunk || typeof chunk !== 'object' || chunk.usage === null || typeof chunk.usage !== 'object') return undefined;
  if (Array.isArray(chunk.choices) && chunk.choices.length === 0) return null;
  const { usage: _usage, ...rest } = chunk;
  return JSON.stringify(rest);
}

/** A client that asked for usage gets every byte; the cut notice still closes a broken stream. */
const passThrough = (): string | undefined => undefined;

export const openaiChatToOpenaiChat: Bridge = {
  from: 'openai-chat',
  to: 'openai-chat',
  request,
  response: (body) => body,
  stream: (ctx) => new SseEventFilter(clientAsked(ctx) ? passThrough : withoutUsage),
};
