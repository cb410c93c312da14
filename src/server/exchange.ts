import { STATUS_CODES } from 'node:http';
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { RelayError } from '../errors/catalogue.js';
import type { Exchange, Incoming } from '../relay/exchange.js';

const statusLines = new Map<number, string>();
export function statusLine(status: number): string {
  let line = statusLines.get(status);
  if (!line) {
    line = `${status} ${STATUS_CODES[status] ?? 'Unknown'}`;
    statusLines.set(status, line);
  }
  return line;
}

/** How many `:name` parameters a route pattern has: counted once, when the route is registered. */
export const paramCount = (pattern: string): number => (pattern.match(/\/:/g) ?? []).length;

/**
 * Bodies up to this size are read as they come, whatever the handler decides (they are mostly in
 * the first packets already). A larger or chunked one waits, unread in the kernel's buffers, until
 * the handler asks for it: a request refused from its headers never costs the memory of its body.
 */
const EAGER_BODY_BYTES = 64 * 1024;

/** Bytes of request bodies still arriving, summed over every exchange of one app. */
export interface BodyMeter {
  held: number;
}

/**
 * One request/response over uWS, made safe to use across `await`s: every write is corked, nothing
 * is written after the client went away, and backpressure is a promise.
 */
export class UwsExchange implements Exchange {
  readonly incoming: Incoming;
  aborted = false;
  started = false;
  finished = false;
  status: number | undefined;
  /** Close the connection after this response (set while the node drains, or past the body limit). */
  closeAfter = false;
  /**
   * Ask the client to close after this response (`connection: close`), without closing under it: a
   * socket closed while the client is still sending is reset, and the reset can destroy the answer
   * before the client reads it. What still arrives of a refused body is dropped unread.
   */
  private askClose = false;
  private readonly abortHandlers: (() => void)[] = [];
  private readonly interruptHandlers: (() => void)[] = [];
  private bodyPromise: Promise<Buffer> | undefined;
  /** Set while a body is arriving: stops holding it (see dropBody). */
  private stopHolding: (() => void) | undefined;
  private writableWaiter: (() => void) | undefined;
  /** The socket is paused until the body is asked for (see EAGER_BODY_BYTES). */
  private bodyWaits = false;

  constructor(
    private readonly res: HttpResponse,
    req: HttpRequest,
    paramCount: number,
  ) {
    const headers: Record<string, string> = {};
    req.forEach((k, v) => {
      headers[k] = v;
    });
    const params: string[] = [];
    for (let i = 0; i < paramCount; i++) params.push(req.getParameter(i));
    this.incoming = { method: req.getMethod(), path: req.getUrl(), query: req.getQuery() ?? '', headers, params };
    res.onAborted(() => {
      this.aborted = true;
      this.writableWaiter?.();
      for (const h of this.abortHandlers) h();
    });
  }

  onAbort(handler: () => void): void {
    if (this.aborted) handler();
    else this.abortHandlers.push(handler);
  }

  onInterrupt(handler: () => void): void {
    this.interruptHandlers.push(handler);
  }

  /** The server stops waiting: whoever handles this exchange ends it now (see Exchange.onInterrupt). */
  interrupt(): void {
    for (const h of this.interruptHandlers.splice(0)) h();
  }

  /** Turns the peer address and X-Forwarded-For into the client's address (set by the app). */
  addressOf: ((remote: string, forwardedFor: string | undefined) => string) | undefined;

  clientAddress(): string {
    const remote = this.remoteAddress();
    return this.addressOf ? this.addressOf(remote, this.incoming.headers['x-forwarded-for']) : remote;
  }

  /** The socket's peer address (empty once the client is gone). */
  remoteAddress(): string {
    if (this.aborted) return '';
    return Buffer.from(this.res.getRemoteAddressAsText()).toString();
  }

  /**
   * Starts reading the body. Must be called inside the uWS handler (before any await), or uWS
   * drops the data. The body rejects with body_too_large past `limit` bytes.
   */
  readBody(limit: number, meter: BodyMeter): void {
    if (this.bodyPromise) return;
    const declared = Number(this.incoming.headers['content-length'] ?? NaN);
    if (Number.isFinite(declared) && declared > limit) {
      this.closeAfter = true;
      this.bodyPromise = Promise.reject(
        new RelayError('body_too_large', {
          message: `The request body (${declared} bytes) is larger than the limit of ${limit} bytes.`,
        }),
      );
      // Not read at all; the response will close the connection.
      this.bodyPromise.catch(() => {});
      this.res.onData(() => {});
      return;
    }
    if (!(declared <= EAGER_BODY_BYTES)) {
      this.res.pause();
      this.bodyWaits = true;
    }
    this.bodyPromise = new Promise<Buffer>((resolve, reject) => {
      let chunks: Buffer[] = [];
      let size = 0;
      let holding = true;
      const stop = () => {
        if (!holding) return;
        holding = false;
        meter.held -= size;
        chunks = [];
        this.stopHolding = undefined;
      };
      this.stopHolding = () => {
        stop();
        this.askClose = true;
      };
      this.onAbort(() => {
        stop();
        reject(new RelayError('invalid_request', { message: 'client closed the connection' }));
      });
      this.res.onData((ab, isLast) => {
        // Dropped unread. uWS allows no close once the answer is out; its idle timeout ends a client
        // that stops sending, and one that goes on costs no memory.
        if (!holding) return;
        size += ab.byteLength;
        meter.held += ab.byteLength;
        if (size > limit) {
          // Asked to close, not closed under it: the client reads its 413 (see askClose).
          this.stopHolding?.();
          reject(
            new RelayError('body_too_large', {
              message: `The request body is larger than the limit of ${limit} bytes.`,
            }),
          );
          return;
        }
        // uWS neuters the ArrayBuffer after this callback: copy.
        chunks.push(Buffer.from(new Uint8Array(ab)));
        if (isLast) {
          const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
          stop();
          resolve(body);
        }
      });
    });
    // The pipeline awaits the body only after authentication: mark a rejection handled now.
    this.bodyPromise.catch(() => {});
  }

  body(): Promise<Buffer> {
    this.letBodyIn();
    return this.bodyPromise ?? Promise.resolve(Buffer.alloc(0));
  }

  dropBody(): void {
    this.stopHolding?.();
    // What is still coming is read and dropped: a paused socket would sit there until it times out.
    this.letBodyIn();
  }

  private letBodyIn(): void {
    if (!this.bodyWaits) return;
    this.bodyWaits = false;
    if (!this.aborted) this.res.resume();
  }

  /** A whole response at once. */
  send(status: number, headers: Readonly<Record<string, string>>, body: string | Buffer): void {
    if (this.aborted || this.finished) return;
    this.started = true;
    this.finished = true;
    this.status = status;
    this.res.cork(() => {
      this.res.writeStatus(statusLine(status));
      for (const [k, v] of Object.entries(headers)) this.res.writeHeader(k, v);
      if (this.askClose && !this.closeAfter) this.res.writeHeader('connection', 'close');
      this.res.end(body, this.closeAfter);
    });
  }

  json(status: number, value: unknown, headers: Readonly<Record<string, string>> = {}): void {
    this.send(status, { 'content-type': 'application/json', ...headers }, JSON.stringify(value));
  }

  beginStream(status: number, headers: Readonly<Record<string, string>>): void {
    if (this.aborted || this.started) return;
    this.started = true;
    this.status = status;
    this.res.cork(() => {
      this.res.writeStatus(statusLine(status));
      for (const [k, v] of Object.entries(headers)) this.res.writeHeader(k, v);
    });
  }

  write(chunk: Buffer): Promise<void> | undefined {
    if (this.aborted || this.finished) return undefined;
    let ok = true;
    this.res.cork(() => {
      ok = this.res.write(chunk);
    });
    if (ok) return undefined;
    return new Promise<void>((resolve) => {
      this.writableWaiter = () => {
        this.writableWaiter = undefined;
        resolve();
      };
      this.res.onWritable(() => {
        this.writableWaiter?.();
        return true;
      });
    });
  }

  end(): void {
    if (this.aborted || this.finished) return;
    this.finished = true;
    this.res.cork(() => {
      this.res.end(undefined, this.closeAfter);
    });
  }

  destroy(): void {
    if (this.aborted || this.finished) return;
    this.finished = true;
    this.res.close();
  }
}
