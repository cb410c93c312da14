import {
  Agent,
  buildConnector,
  errors as undiciErrors,
  ProxyAgent,
  request,
  Socks5ProxyAgent,
  type Dispatcher,
} from 'undici';
import { RelayError } from '../errors/catalogue.js';
import type { Upstream } from './types.js';

/**
 * Keep-alive pools per upstream origin (undici's Agent keeps one pool per origin), and one
 * dispatcher per proxy, each with its own pools. Timeouts: connecting, waiting for response
 * headers, and the longest silence between body chunks.
 */
export function createUpstream(opts: { connectTimeoutMs: number; timeoutMs: number }): Upstream {
  const timeouts = {
    headersTimeout: opts.timeoutMs,
    bodyTimeout: opts.timeoutMs,
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 600_000,
  };
  const direct = new Agent({ connect: { timeout: opts.connectTimeoutMs }, ...timeouts });
  const proxies = new Map<string, Dispatcher>();

  const via = (proxy: string | undefined): Dispatcher => {
    if (!proxy) return direct;
    let d = proxies.get(proxy);
    if (!d) {
      const protocol = new URL(proxy).protocol;
      // The SOCKS5 agent takes a connector function (an options object breaks every connect), and
      // ignores pool timeouts: `send` passes those per request.
      d =
        protocol === 'socks5:' || protocol === 'socks5h:'
          ? new Socks5ProxyAgent(proxy.replace(/^socks5h:/, 'socks5:'), {
              connect: buildConnector({ timeout: opts.connectTimeoutMs }),
            })
          : new ProxyAgent({ uri: proxy, connect: { timeout: opts.connectTimeoutMs }, ...timeouts });
      proxies.set(proxy, d);
    }
    return d;
  };

  return {
    async send(req, signal) {
      try {
        return await request(req.url, {
          dispatcher: via(req.proxy),
          method: req.method,
          headers: req.headers,
          body: req.body ?? null,
          ...(signal ? { signal } : {}),
          headersTimeout: timeouts.headersTimeout,
          bodyTimeout: timeouts.bodyTimeout,
        });
      } catch (err) {
        // undici reports a proxy refusing the tunnel (407, 403…) as an aborted request; only our
        // own signal aborts a call, anything else is an upstream we could not reach.
        if (!signal?.aborted && isAbort(err)) throw new RelayError('upstream_unreachable', { cause: err });
        throw toRelayError(err);
      }
    },
    close: async () => {
      await Promise.all([direct.close(), ...[...proxies.values()].map((d) => d.close())]);
    },
  };
}

/** Maps undici's failures to catalogue errors; never exposes upstream addresses to clients. */
export function toRelayError(err: unknown): RelayError | Error {
  if (err instanceof RelayError) return err;
  if (err instanceof undiciErrors.RequestAbortedError || (err instanceof Error && err.name === 'AbortError'))
    return err;
  if (
    err instanceof undiciErrors.ConnectTimeoutError ||
    err instanceof undiciErrors.HeadersTimeoutError ||
    err instanceof undiciErrors.BodyTimeoutError
  ) {
    return new RelayError('upstream_timeout', { cause: err });
  }
  return new RelayError('upstream_unreachable', { cause: err });
}

export const isAbort = (err: unknown): boolean =>
  err instanceof undiciErrors.RequestAbortedError ||
  (err instanceof Error && (err.name === 'AbortError' || (err as { code?: string }).code === 'UND_ERR_ABORTED'));

/** The upstream was silent too long: while connecting, before its headers, or between body chunks. */
export const isTimeout = (err: unknown): boolean =>
  err instanceof undiciErrors.ConnectTimeoutError ||
  err instanceof undiciErrors.HeadersTimeoutError ||
  err instanceof undiciErrors.BodyTimeoutError ||
  (err instanceof RelayError && err.code === 'upstream_timeout');
