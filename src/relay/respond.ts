import type { Account } from '../accounts/service.js';
import { RelayError } from '../errors/catalogue.js';
import type { ApiKeyRecord } from '../keys/service.js';
import type { Provider } from '../providers/types.js';
import type { Bridge, BridgeContext, StreamTranslator } from '../translate/index.js';
import { ZERO_USAGE, type TokenUsage } from '../usage/pricing.js';
import type { UsageEvent } from '../usage/recorder.js';
import { usageReader, type FoundUsage, type WireFormat } from '../wire/index.js';
import { isAbort } from '../upstream/client.js';
import type { UpstreamResponse } from '../upstream/types.js';
import type { Exchange } from './exchange.js';
import type { ParsedRequest, RelayDeps, Surface } from './types.js';

/** One request on its way through, once it has an account: what booking and writing need. */
export interface Call {
  readonly ex: Exchange;
  readonly deps: RelayDeps;
  readonly surface: Surface;
  readonly requestId: string;
  readonly startedAt: number;
  readonly key: ApiKeyRecord;
  readonly parsed: ParsedRequest;
  /** The client's query string, parsed once. */
  readonly query: URLSearchParams;
  readonly account: Account;
  readonly provider: Provider;
  /** The format the upstream answers in (usage is read in it). */
  readonly format: WireFormat;
  /** Translates the answer into the client's format, when the two differ. */
  readonly bridge: Bridge | undefined;
  readonly bridgeContext: BridgeContext;
  ttfbMs: number | null;
  /** What to do when the client goes away; set by the phase the call is in. */
  onClientGone: () => void;
}

/** A stream that failed before its first event: nothing reached the client, another account may try. */
export class StreamFailedBeforeFirstByte extends Error {
  constructor(readonly streamError: { type: string; message: string } | undefined) {
    super(streamError ? `upstream stream error before the first event: ${streamError.type}` : 'upstream stream ended before its first event');
    this.name = 'StreamFailedBeforeFirstByte';
  }
}

export function responseHeaders(call: Call, res: UpstreamResponse): Record<string, string> {
  const headers: Record<string, string> = { 'x-request-id': call.requestId };
  for (const [name, value] of Object.entries(res.headers)) {
    if (value !== undefined && call.provider.forwardResponseHeader(name)) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

/**
 * SSE: bytes pass through as they arrive (translated when the client speaks another format); the
 * tap reads usage from the upstream's own events. Nothing is written until the upstream's first
 * event: a stream that breaks or opens with an error event before that throws
 * StreamFailedBeforeFirstByte, and the request fails over.
 */
export async function streamBack(call: Call, res: UpstreamResponse, headers: Record<string, string>): Promise<void> {
  const { ex } = call;
  const reader = usageReader(call.format);
  const tap = reader.tap();
  const translator: StreamTranslator | undefined = call.bridge?.stream(call.bridgeContext);
  // Closing the body closes the upstream connection: the upstream stops generating.
  const stopUpstream = () => res.body.destroy();
  // The client left: stop the upstream, but not before it has told us its usage.
  call.onClientGone = () => {
    if (tap.sawUsage) stopUpstream();
  };
  const out = (chunk: Buffer) => (translator ? translator.push(chunk) : chunk);
  if (translator) headers['content-type'] = translator.contentType ?? 'text/event-stream; charset=utf-8';
  let held: Buffer[] | null = [];
  let broken = false;
  try {
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      tap.push(chunk);
      if (held) {
        if (!tap.started) {
          held.push(chunk);
          continue;
        }
        if (tap.streamError && !tap.sawUsage) break;
        ex.beginStream(res.statusCode, { ...headers, 'cache-control': 'no-cache' });
        held.push(chunk);
        const pending = held;
        held = null;
        for (const c of pending) {
          const bytes = out(c);
          if (bytes.length > 0) await ex.write(bytes);
        }
        continue;
      }
      if (ex.aborted) {
        if (tap.sawUsage) break;
        continue;
      }
      const bytes = out(chunk);
      if (bytes.length === 0) continue;
      const drained = ex.write(bytes);
      if (drained) await drained;
    }
  } catch (err) {
    if (!ex.aborted && !isAbort(err)) broken = true;
  }
  if (held) {
    // Nothing reached the client: let the next account try.
    stopUpstream();
    tap.end();
    if (!ex.aborted) throw new StreamFailedBeforeFirstByte(tap.streamError);
  }
  if (ex.aborted) stopUpstream();
  tap.end();
  const outcome: UsageEvent['outcome'] = ex.aborted ? 'client_abort' : broken || !tap.complete ? 'cut' : 'ok';
  if (call.surface.booked) await book(call, res.statusCode, outcome, tap);
  if (ex.aborted) return;
  if (translator) {
    const tail = translator.end({ complete: outcome === 'ok' });
    if (tail.length > 0) ex.write(tail);
  } else if (outcome === 'cut' && !tap.streamError) {
    const notice = reader.cutNotice?.();
    if (notice) ex.write(notice);
  }
  ex.end();
}

/**
 * A whole JSON answer: read, book, then send, so the client sees the end only once it is booked.
 * Read to the end even if the client left: the usage is at the end and the upstream charges it.
 */
export async function bufferBack(call: Call, res: UpstreamResponse, headers: Record<string, string>): Promise<void> {
  const { ex, deps } = call;
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of res.body as AsyncIterable<Buffer>) chunks.push(chunk);
  } catch (err) {
    if (call.surface.booked) await book(call, res.statusCode, ex.aborted ? 'client_abort' : 'cut', undefined);
    if (ex.aborted) return;
    throw new RelayError('upstream_unreachable', { message: 'The upstream connection broke while sending the response.', cause: err });
  }
  let body = Buffer.concat(chunks);
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    deps.log.warn('upstream answered with a body that is not JSON', { requestId: call.requestId, accountId: call.account.id });
  }
  if (call.surface.booked) await book(call, res.statusCode, ex.aborted ? 'client_abort' : 'ok', usageReader(call.format).fromJson(json));
  if (call.bridge && json !== undefined) {
    body = Buffer.from(JSON.stringify(call.bridge.response(json, call.bridgeContext)));
    headers['content-type'] = 'application/json';
  }
  ex.send(res.statusCode, headers, body);
}

const MAX_ERROR_BODY = 64 * 1024;

/** Reads an upstream error body (bounded) and turns it into a RelayError with the upstream's status. */
export async function upstreamErrorOf(res: UpstreamResponse, headers: Record<string, string>): Promise<RelayError> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size <= MAX_ERROR_BODY) chunks.push(chunk);
    }
  } catch {
    // the status is what matters
  }
  let message = `The upstream returned HTTP ${res.statusCode}.`;
  let parsedBody: unknown;
  try {
    const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    parsedBody = parsed;
    // Anthropic, OpenAI and Google all put it in error.message; Google's is sometimes an array;
    // the ChatGPT backend says `{"detail": …}`.
    const first = Array.isArray(parsed) ? parsed[0] : parsed;
    const e = (first as { error?: { message?: unknown } | string; message?: unknown; detail?: unknown } | null) ?? {};
    const m = typeof e.error === 'object' ? e.error?.message : (e.error ?? e.message ?? e.detail);
    if (typeof m === 'string' && m) message = `Upstream: ${m}`;
  } catch {
    // not JSON: keep the generic message
  }
  const passOn: Record<string, string> = {};
  if (headers['retry-after']) passOn['retry-after'] = headers['retry-after'];
  if (headers['request-id']) passOn['request-id'] = headers['request-id'];
  // The parsed body rides along as the cause: providers read retry hints in it (Google's RetryInfo).
  return new RelayError('upstream_error', { status: res.statusCode, message, headers: passOn, kind: kindForStatus(res.statusCode), cause: parsedBody });
}

function kindForStatus(status: number): RelayError['kind'] {
  if (status === 400 || status === 422) return 'invalid_request';
  if (status === 401) return 'authentication';
  if (status === 402) return 'billing';
  if (status === 403) return 'permission';
  if (status === 404) return 'not_found';
  if (status === 413) return 'too_large';
  if (status === 429) return 'rate_limit';
  if (status === 529) return 'overloaded';
  if (status === 504) return 'timeout';
  return 'api';
}

/** Books one upstream call (once, whatever happened to it). */
export async function book(call: Call, status: number, outcome: UsageEvent['outcome'], found: Pick<FoundUsage, 'usage' | 'model'> | undefined): Promise<void> {
  const { deps } = call;
  const usage: TokenUsage = found?.usage ?? { ...ZERO_USAGE };
  const model = found?.model ?? call.bridgeContext.upstreamModel;
  const price = deps.pricing().cost(model, usage);
  const now = deps.clock.now();
  await deps.recorder.record({
    requestId: call.requestId,
    keyId: call.key.id,
    accountId: call.account.id,
    platform: call.account.platform,
    model,
    endpoint: call.surface.name,
    stream: call.parsed.stream,
    status,
    outcome,
    usage,
    costPico: price.costPico,
    pricedAs: price.pricedAs,
    priceSource: price.source,
    startedAt: call.startedAt,
    durationMs: now - call.startedAt,
    ttfbMs: call.ttfbMs,
  });
}
