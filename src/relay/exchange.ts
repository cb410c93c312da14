/**
 * The client's side of one request, as the relay uses it. The server implements it over its HTTP
 * front end (server/exchange.ts); the relay knows nothing of uWS.
 */
export interface Incoming {
  method: string;
  /** The request path, without the query string. */
  path: string;
  /** Raw query string, without `?`. */
  query: string;
  /** Lower-cased names. */
  headers: Readonly<Record<string, string>>;
  /** Route parameters, in pattern order. */
  params: readonly string[];
}

export interface Exchange {
  readonly incoming: Incoming;
  /** The client's address (behind trusted proxies, from X-Forwarded-For); empty once it is gone. */
  clientAddress(): string;
  /** The client went away: nothing more can be written. */
  readonly aborted: boolean;
  /** Status, headers or body have been written: an error can no longer be answered, only cut. */
  readonly started: boolean;
  /** The status written, once it is. */
  readonly status: number | undefined;
  onAbort(handler: () => void): void;
  /**
   * The server stops waiting for this exchange (a drain that ran out of time): the handler ends
   * it now and tells the client why (an error event in a stream, a 503 before one).
   */
  onInterrupt(handler: () => void): void;
  /**
   * The request body. A small one is read as it arrives; a large one only once this is first
   * called (so the key can be checked before it is read). Rejects with body_too_large past the
   * server's limit.
   */
  body(): Promise<Buffer>;
  /**
   * The body will not be used (the request is refused before it): what arrives is dropped unread,
   * and the answer asks the client to close the connection if it is still sending.
   */
  dropBody(): void;
  /** A whole response at once. */
  send(status: number, headers: Readonly<Record<string, string>>, body: string | Buffer): void;
  /** Status and headers of a streamed response. */
  beginStream(status: number, headers: Readonly<Record<string, string>>): void;
  /**
   * Writes a chunk. Returns nothing when the socket took it, or a promise that settles when the
   * client has drained (or went away): await it before reading more from upstream.
   */
  write(chunk: Buffer): Promise<void> | undefined;
  /** Ends a streamed response. */
  end(): void;
  /** Drops the connection (a stream that cannot be finished cleanly). */
  destroy(): void;
}
