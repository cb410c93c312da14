import { isTimeout } from '../upstream/client.js';
import type { UpstreamResponse } from '../upstream/types.js';
import { usageReader } from '../wire/index.js';
import { book } from './book.js';
import type { Call } from './call.js';
import type { Delivered } from './stream-back.js';

/**
 * A whole JSON answer: read, book, then send, so the client sees the end only once it is booked.
 * Read to the end even if the client left: the usage is at the end and the upstream charges it.
 * A body that breaks or stalls before its end has reached nobody: an EarlyFailure, and the
 * request fails over (there is no usage to book: it was in the part that never came).
 */
export async function bufferBack(
  call: Call,
  res: UpstreamResponse,
  headers: Record<string, string>,
): Promise<Delivered> {
  const { ex, deps } = call;
  let interrupted = false;
  call.onInterrupt = () => {
    interrupted = true;
    res.body.destroy();
  };
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of res.body as AsyncIterable<Buffer>) chunks.push(chunk);
  } catch (err) {
    if (interrupted) return { sent: false, failure: { kind: 'shutdown' } };
    if (ex.aborted) {
      if (call.surface.booked) await book(call, res.statusCode, 'client_abort', undefined);
      return { sent: true, outcome: 'client_abort' };
    }
    if (isTimeout(err)) return { sent: false, failure: { kind: 'timeout' } };
    return {
      sent: false,
      failure: { kind: 'ended', message: 'The upstream connection broke while sending the response.' },
    };
  }
  call.trace.upstreamAnswered(false);
  let body = Buffer.concat(chunks);
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    deps.log.warn('upstream answered with a body that is not JSON', {
      requestId: call.requestId,
      accountId: call.account.id,
    });
  }
  const outcome = ex.aborted ? 'client_abort' : 'ok';
  if (call.surface.booked) await book(call, res.statusCode, outcome, usageReader(call.format).fromJson(json));
  if (call.bridge && json !== undefined) {
    body = Buffer.from(JSON.stringify(call.bridge.response(json, call.bridgeContext)));
    headers['content-type'] = 'application/json';
  }
  headers['server-timing'] = call.trace.answering();
  ex.send(res.statusCode, headers, body);
  return { sent: true, outcome };
}
