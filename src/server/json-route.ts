import type { TemplatedApp } from 'uWebSockets.js';
import { RelayError } from '../errors/catalogue.js';
import { renderError, type ApiShape } from '../errors/render.js';
import type { Logger } from '../util/log.js';
import { Exchange, paramCount } from './exchange.js';

export interface JsonContext {
  ex: Exchange;
  params: string[];
  query: URLSearchParams;
  /** Parsed JSON body (undefined for GET/DELETE or an empty body). */
  body: unknown;
  requestId: string;
}

export interface JsonReply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export type JsonHandler = (ctx: JsonContext) => Promise<JsonReply>;
export type Method = 'get' | 'post' | 'patch' | 'put' | 'del';

/** Registers small JSON APIs (admin, health) on the uWS app, with errors in the given shape. */
export function jsonRoutes(opts: {
  app: TemplatedApp;
  shape: ApiShape;
  bodyLimitBytes: number;
  log: Logger;
  nextRequestId: () => string;
  /** Wraps every handler (in-flight tracking, drain). */
  track: (ex: Exchange, run: () => Promise<void>) => void;
}) {
  return (method: Method, pattern: string, handler: JsonHandler) => {
    const params = paramCount(pattern);
    opts.app[method](pattern, (res, req) => {
      const ex = new Exchange(res, req, params);
      const reading = method === 'post' || method === 'patch' || method === 'put' ? ex.readBody(opts.bodyLimitBytes) : undefined;
      const requestId = opts.nextRequestId();
      opts.track(ex, async () => {
        try {
          let body: unknown;
          if (reading) {
            const bytes = await reading;
            if (bytes.length > 0) {
              try {
                body = JSON.parse(bytes.toString('utf8'));
              } catch {
                throw new RelayError(opts.shape === 'admin' ? 'admin_invalid' : 'invalid_json', { message: 'The request body is not valid JSON.' });
              }
            }
          }
          const reply = await handler({ ex, params: ex.incoming.params, query: new URLSearchParams(ex.incoming.query), body, requestId });
          if (reply.status === 204) ex.send(204, { 'x-request-id': requestId, ...reply.headers }, '');
          else ex.json(reply.status, reply.body, { 'x-request-id': requestId, ...reply.headers });
        } catch (err) {
          if (!(err instanceof RelayError)) opts.log.error('handler failed', { requestId, path: ex.incoming.path, err });
          const r = renderError(opts.shape, err, requestId);
          ex.send(r.status, { ...r.headers, 'x-request-id': requestId }, r.body);
        }
      });
    });
  };
}
