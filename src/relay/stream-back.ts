import type { StreamTranslator } from '../translate/index.js';
import { isAbort, isTimeout } from '../upstream/client.js';
import type { UpstreamResponse } from '../upstream/types.js';
import type { UsageEvent } from '../usage/recorder.js';
import { usageReader } from '../wire/index.js';
import { book } from './book.js';
import type { Call } from './call.js';

/** Why an answer failed before any of it reached the client (another account may try). */
export type EarlyFailure =
  | { kind: 'error_event'; type: string; message: string }
  | { kind: 'ended'; message: string }
  | { kind: 'timeout' }
  | { kind: 'shutdown' };

/** How an answer's delivery ended, once it had begun: what it is booked as. */
export type Delivery = Extract<UsageEvent['outcome'], 'ok' | 'cut' | 'timeout' | 'client_abort' | 'shutdown'>;

export type Delivered = { sent: true; outcome: Delivery } | { sent: false; failure: EarlyFailure };

/** Why a stream did not finish, in the error that ends it (a cut says so in each format's own words). */
const UNFINISHED: Partial<Record<Delivery, string>> = {
  timeout: 'The upstream stopped sending (timed out); the response is incomplete.',
  shutdown: 'The relay is restarting and could not wait for the rest of this response; retry the request.',
};

/** How a stream that had begun ended: the server stopping, the client leaving, a break, or its normal end. */
function endingOf(call: Call, interrupted: boolean, failure: unknown, complete: boolean): Delivery {
  if (interrupted) return 'shutdown';
  if (call.ex.aborted) return 'client_abort';
  if (failure !== undefined && !isAbort(failure)) return isTimeout(failure) ? 'timeout' : 'cut';
  return complete ? 'ok' : 'cut';
}

/**
 * SSE: bytes pass through as they arrive (translated when the client speaks another format); the
 * tap reads usage from the upstream's own events. Nothing is written until the upstream's first
 * event: a stream that breaks, stays silent or opens with an error event before that is an
 * EarlyFailure, and the request fails over.
 */
export async function streamBack(
  call: Call,
  res: UpstreamResponse,
  headers: Record<string, string>,
): Promise<Delivered> {
  const { ex } = call;
  const reader = usageReader(call.format);
  const tap = reader.tap();
  const translator: StreamTranslator | undefined = call.bridge?.stream(call.bridgeContext);
  // Closing the body closes the upstream connection: the upstream stops generating.
  const stopUpstream = () => res.body.destroy();
  let interrupted = false;
  // The client left: stop the upstream, but not before it has told us its usage.
  call.onClientGone = () => {
    if (tap.sawUsage) stopUpstream();
  };
  call.onInterrupt = () => {
    interrupted = true;
    stopUpstream();
  };
  const out = (chunk: Buffer) => (translator ? translator.push(chunk) : chunk);
  if (translator) headers['content-type'] = translator.contentType ?? 'text/event-stream; charset=utf-8';
  let held: Buffer[] | null = [];
  let failure: unknown;
  try {
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      tap.push(chunk);
      if (held) {
        if (!tap.started) {
          held.push(chunk);
          continue;
        }
        if (tap.streamError && !tap.sawUsage) break;
        ex.beginStream(res.statusCode, {
          ...headers,
          'cache-control': 'no-cache',
          'server-timing': call.trace.answering(),
        });
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
    failure = err;
  }
  if (held && !ex.aborted) {
    // Nothing reached the client: let the next account try.
    stopUpstream();
    tap.end();
    if (interrupted) return { sent: false, failure: { kind: 'shutdown' } };
    if (tap.streamError) return { sent: false, failure: { kind: 'error_event', ...tap.streamError } };
    if (failure !== undefined && isTimeout(failure)) return { sent: false, failure: { kind: 'timeout' } };
    return { sent: false, failure: { kind: 'ended', message: 'The upstream stream ended before its first event.' } };
  }
  if (ex.aborted) stopUpstream();
  tap.end();
  const outcome = endingOf(call, interrupted, failure, tap.complete);
  if (call.surface.booked) await book(call, res.statusCode, outcome, tap);
  if (ex.aborted) return { sent: true, outcome };
  // What closes the client's stream: the translator's end, or (unfinished, with no error event
  // of the upstream's own) a notice saying why.
  const complete = outcome === 'ok';
  const message = UNFINISHED[outcome];
  const tail = translator
    ? translator.end({ complete, message })
    : complete || tap.streamError
      ? undefined
      : reader.cutNotice?.(message);
  if (tail && tail.length > 0) ex.write(tail);
  ex.end();
  return { sent: true, outcome };
}
