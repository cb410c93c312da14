import { isUtf8 } from 'node:buffer';
import type { TemplatedApp } from 'uWebSockets.js';
import type { AdminReply, Method } from '../admin/types.js';
import { RelayError } from '../errors/catalogue.js';
import { renderError, type ApiShape } from '../errors/render.js';
import { asClientError } from '../relay/pipeline.js';
import type { Logger } from '../util/log.js';
import type { ClientAddressOf } from './client-address.js';
import { paramCount, UwsExchange, type BodyMeter } from './exchange.js';

/** What a JSON route handler gets: the admin API's request, plus the exchange for what only the server needs. */
export interface JsonContext {
  ex: UwsExchange;
  params: readonly string[];
  query: URLSearchParams;
  headers: Readonly<Record<string, string>>;
  /** Parsed JSON body (undefined for GET/DELETE or an empty body). */
  body: unknown;
  requestId: string;
  clientAddress: string;
}

export type JsonReply = AdminReply;
export type JsonHandler = (ctx: JsonContext) => Promise<JsonReply>;

/** Registers small JSON APIs (admin, health, model lists) on the uWS app, with errors in the given shape. */
export function jsonRoutes(opts: {
  app: TemplatedApp;
  shape: ApiShape;
  bodyLimitBytes: number;
  meter: BodyMeter;
  log: Logger;
  nextRequestId: () => string;
  clientAddressOf: ClientAddressOf;
  /** Wraps every handler (in-flight tracking, drain). */
  track: (ex: UwsExchange, run: () => Promise<void>) => void;
}) {
  return (method: Method, pattern: string, handler: JsonHandler) => {
    const params = paramCount(pattern);
    opts.app[method](pattern, (res, req) => {
      const ex = new UwsExchange(res, req, params);
      if (method === 'post' || method === 'patch' || method === 'put') ex.readBody(opts.bodyLimitBytes, opts.meter);
      const requestId = opts.nextRequestId();
      const headers = ex.incoming.headers;
      const clientAddress = opts.clientAddressOf(ex.remoteAddress(), headers['x-forwarded-for']);
      opts.track(ex, async () => {
        try {
          let body: unknown;
          const bytes = await ex.body();
          if (bytes.length > 0) {
            try {
              if (!isUtf8(bytes)) throw new Error('not UTF-8');
              body = JSON.parse(bytes.toString('utf8'));
            } catch {
              throw new RelayError(opts.shape === 'admin' ? 'admin_invalid' : 'invalid_json', {
                message: 'The request body is not valid JSON.',
              });
            }
          }
          const reply = await handler({
            ex,
            params: ex.incoming.params,
            query: new URLSearchParams(ex.incoming.query),
            headers,
            body,
            requestId,
            clientAddress,
          });
          if (reply.stream)
            await streamReply(ex, reply.status, { 'x-request-id': requestId, ...reply.headers }, reply.stream);
          else if (reply.status === 204) ex.send(204, { 'x-request-id': requestId, ...reply.headers }, '');
          else ex.json(reply.status, reply.body, { 'x-request-id': requestId, ...reply.headers });
        } catch (err) {
          if (ex.started) return ex.destroy();
          const r = renderError(opts.shape, asClientError(err, requestId, opts), requestId);
          ex.send(r.status, { ...r.headers, 'x-request-id': requestId }, r.body);
        }
      });
    });
  };
}

/**
 * A streamed admin answer (exports): written as the handler produces it, waiting whenever the
 * client is slower; the handler's signal aborts when the client leaves, and a failure after the
 * headers cuts the connection (the client sees a truncated body, never a wrong one).
 */
async function streamReply(
  ex: UwsExchange,
  status: number,
  headers: Record<string, string>,
  produce: NonNullable<JsonReply['stream']>,
): Promise<void> {
  const abort = new AbortController();
  ex.onAbort(() => abort.abort());
  ex.onInterrupt(() => abort.abort());
  ex.beginStream(status, headers);
  try {
    const write = (text: string) => (abort.signal.aborted ? undefined : ex.write(Buffer.from(text)));
    await produce({ write, signal: abort.signal });
  } catch (err) {
    if (!ex.aborted) ex.destroy();
    if (abort.signal.aborted) return;
    throw err;
  }
  if (!ex.aborted) ex.end();
}
