import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { anthropicError, errorMessage, streamExceptionType } from './errors.js';

const codec = new EventStreamCodec(toUtf8, fromUtf8);
type Message = ReturnType<EventStreamCodec['decode']>;

/** Prelude (total length, headers length, prelude CRC) + message CRC. */
const MIN_MESSAGE = 16;
/** Bedrock's messages are a few kilobytes; anything this large is a corrupt length prefix. */
const MAX_MESSAGE = 16 * 1024 * 1024;

type Usage = Record<string, unknown>;
const USAGE_FIELDS = [
  ['input_tokens', 'inputTokenCount'],
  ['output_tokens', 'outputTokenCount'],
  ['cache_read_input_tokens', 'cacheReadInputTokenCount'],
  ['cache_creation_input_tokens', 'cacheWriteInputTokenCount'],
] as const;

const sse = (event: string, data: string) => Buffer.from(`event: ${event}\ndata: ${data}\n\n`);

/**
 * InvokeModelWithResponseStream's binary event stream → the Anthropic SSE stream inside it.
 *
 * Each `chunk` event carries one Anthropic stream event as base64 JSON (`{"bytes": …}`); it goes
 * out as `event: <type>\ndata: <json>\n\n`, byte for byte. An exception message
 * (`:message-type: exception`, e.g. `throttlingException`) becomes an Anthropic `error` event.
 * Framing and checksums are the AWS codec's; this class only finds where each message ends.
 *
 * Usage: the Anthropic events carry it (cache reads and writes included), and the relay books it
 * from them. Bedrock also puts `amazon-bedrock-invocationMetrics` on the last event; when the
 * events left a count out, it is added to `message_delta`'s usage (held back until the next event
 * for this), so the client and the booking both see it, and nothing is counted twice: the
 * metrics fill gaps, they never add to what the events said.
 */
export class BedrockStreamDecoder {
  private pending: Buffer = Buffer.alloc(0);
  private heldDelta: { text: string; json: { usage?: Usage } } | undefined;
  private readonly reported = new Set<string>();

  /**
   * Why the stream could not be read further (a bad checksum or length, a chunk that is not JSON).
   * The messages before the bad one still go out, then an Anthropic `error` event, in band, so the
   * usage they carried is booked and the client is told; the rest of the stream is ignored.
   */
  failure: Error | undefined;

  /** Bytes of the event stream in; SSE bytes out (empty until a message is complete, and after a failure). */
  push(chunk: Buffer): Buffer {
    if (this.failure) return Buffer.alloc(0);
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const out: Buffer[] = [];
    try {
      while (this.pending.length >= 4) {
        const length = this.pending.readUInt32BE(0);
        if (length < MIN_MESSAGE || length > MAX_MESSAGE)
          throw new Error(`corrupt event stream: message length ${length}`);
        if (this.pending.length < length) break;
        const message = codec.decode(this.pending.subarray(0, length));
        this.pending = this.pending.subarray(length);
        this.translate(message, out);
      }
    } catch (err) {
      this.failure = err instanceof Error ? err : new Error(String(err));
      this.pending = Buffer.alloc(0);
      this.flush(out);
      out.push(
        sse(
          'error',
          JSON.stringify(
            anthropicError('api_error', `The upstream event stream could not be read: ${this.failure.message}`),
          ),
        ),
      );
    }
    return Buffer.concat(out);
  }

  /** The stream ended (normally or cut): whatever is still held back. A partial message is dropped. */
  end(): Buffer {
    if (this.failure) return Buffer.alloc(0);
    return this.release() ?? Buffer.alloc(0);
  }

  private translate(message: Message, out: Buffer[]): void {
    const header = (name: string) => {
      const v = message.headers[name]?.value;
      return typeof v === 'string' ? v : undefined;
    };
    const kind = header(':message-type');
    if (kind === 'event') {
      if (header(':event-type') !== 'chunk') return;
      const bytes = (JSON.parse(toUtf8(message.body)) as { bytes?: unknown }).bytes;
      if (typeof bytes === 'string') this.onAnthropicEvent(Buffer.from(bytes, 'base64').toString('utf8'), out);
      return;
    }
    const name = (kind === 'exception' ? header(':exception-type') : header(':error-code')) ?? 'unknownError';
    let detail = header(':error-message');
    if (kind === 'exception') {
      try {
        detail = errorMessage(JSON.parse(toUtf8(message.body)));
      } catch {
        detail = toUtf8(message.body);
      }
    }
    this.flush(out);
    out.push(
      sse(
        'error',
        JSON.stringify(
          anthropicError(streamExceptionType(name), `${name}: ${detail ?? 'error in the upstream stream'}`),
        ),
      ),
    );
  }

  private onAnthropicEvent(text: string, out: Buffer[]): void {
    const json = JSON.parse(text) as {
      type?: unknown;
      message?: { usage?: Usage };
      usage?: Usage;
      'amazon-bedrock-invocationMetrics'?: Usage;
    };
    const type = typeof json.type === 'string' ? json.type : 'unknown';
    // SSE data must be one line; Bedrock's JSON is, but never trust a newline through.
    const data = text.includes('\n') ? JSON.stringify(json) : text;
    if (type === 'message_start') this.note(json.message?.usage);
    if (type === 'message_delta') {
      this.flush(out);
      this.note(json.usage);
      this.heldDelta = { text: data, json };
      return;
    }
    if (type === 'message_stop') this.fillGaps(json['amazon-bedrock-invocationMetrics']);
    this.flush(out);
    out.push(sse(type, data));
  }

  private note(usage: Usage | undefined): void {
    for (const [field] of USAGE_FIELDS) if (typeof usage?.[field] === 'number') this.reported.add(field);
  }

  private fillGaps(metrics: Usage | undefined): void {
    const held = this.heldDelta;
    if (!metrics || !held) return;
    let changed = false;
    for (const [field, metric] of USAGE_FIELDS) {
      const value = metrics[metric];
      if (this.reported.has(field) || typeof value !== 'number') continue;
      held.json.usage = { ...held.json.usage, [field]: value };
      changed = true;
    }
    if (changed) held.text = JSON.stringify(held.json);
  }

  private release(): Buffer | undefined {
    const held = this.heldDelta;
    this.heldDelta = undefined;
    return held ? sse('message_delta', held.text) : undefined;
  }

  private flush(out: Buffer[]): void {
    const held = this.release();
    if (held) out.push(held);
  }
}
