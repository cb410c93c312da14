import type { Dispatcher } from 'undici';

/**
 * The relay's HTTP client towards upstreams: what providers build (a request), what comes back,
 * and the client itself. Everything that calls an upstream (the relay's attempts, token
 * endpoints, project discovery) goes through one, so proxies and keep-alive pools are shared.
 */

/** A request ready to go upstream. */
export interface UpstreamRequest {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: Buffer | string;
  /** The account's proxy (`http://`, `https://` or `socks5://`, credentials included), if any. */
  proxy?: string;
  /** The credential this request carries (OAuth access token), to tell a stale one after a 401. */
  authToken?: string;
}

export type UpstreamResponse = Dispatcher.ResponseData;

export interface Upstream {
  /** Sends a request (through the account's proxy, if any); connection problems and timeouts become RelayErrors. */
  send(req: UpstreamRequest, signal?: AbortSignal): Promise<UpstreamResponse>;
  close(): Promise<void>;
}
