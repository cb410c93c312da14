import type http from 'node:http';
import type { AddressInfo, Server, Socket } from 'node:net';

/**
 * Server plumbing the fake upstreams and the test proxies share: the whole request body, a JSON
 * body parsed leniently, listening on a free local port, and a close() that destroys the open
 * sockets first (keep-alive connections, hanging streams, tunnels) so it never waits on them.
 */

/** A request listener that gets the whole body, as UTF-8 text, once it has all arrived. */
export function withBody(
  handle: (req: http.IncomingMessage, res: http.ServerResponse, rawBody: string) => void,
): http.RequestListener {
  return (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  };
}

/** The body parsed as JSON; undefined when it is empty or not JSON (the fake then answers as the real API does). */
export function parseJson<T = unknown>(rawBody: string): T | undefined {
  if (!rawBody) return undefined;
  try {
    return JSON.parse(rawBody) as T;
  } catch {
    return undefined;
  }
}

/** Listens on `host` (127.0.0.1) and `port` (a free one); resolves with the port. */
export async function listen(server: Server, port = 0, host = '127.0.0.1'): Promise<number> {
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  return (server.address() as AddressInfo).port;
}

/** Destroys every socket still open, then closes the server. */
export async function closeServer(server: Server, sockets: Iterable<Socket>): Promise<void> {
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** Adds sockets to `sockets` until they close, ignoring their errors (a proxy's peers hang up abruptly). */
export function trackSockets(sockets: Set<Socket>, ...list: Socket[]): void {
  for (const s of list) {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
  }
}

/**
 * A fake's HTTP server, listening: keeps its connections' sockets so that close() can end them.
 * `url` is always `http://127.0.0.1:PORT`.
 */
export async function serve(
  server: Server,
  opts: { port?: number; host?: string } = {},
): Promise<{ port: number; url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const port = await listen(server, opts.port, opts.host);
  return { port, url: `http://127.0.0.1:${port}`, close: () => closeServer(server, sockets) };
}
