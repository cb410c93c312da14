import net from 'node:net';
import { closeServer, listen, trackSockets } from '../fakes/server-kit.js';

/** One connection through the proxy: bytes each way, and which side closed it first. */
export interface ProxiedConnection {
  /** Client → target bytes. */
  bytesUp: number;
  /** Target → client bytes. */
  bytesDown: number;
  closedAt: number | null;
  closedBy: 'client' | 'target' | null;
}

export interface TcpProxy {
  /** `http://127.0.0.1:PORT`, to use as an account's base URL in front of a fake upstream. */
  readonly url: string;
  readonly connections: ProxiedConnection[];
  close(): Promise<void>;
}

/**
 * A byte-for-byte TCP relay with backpressure (pipe), recording what flows and who hangs up.
 * Placed between the relay and a fake upstream, it shows from outside whether the relay aborted
 * an upstream call, and how far an upstream got while a slow client held the stream back.
 */
export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const { hostname, port } = new URL(target);
  const connections: ProxiedConnection[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const conn: ProxiedConnection = { bytesUp: 0, bytesDown: 0, closedAt: null, closedBy: null };
    connections.push(conn);
    const upstream = net.connect(Number(port), hostname);
    trackSockets(sockets, client, upstream);
    const closed = (by: 'client' | 'target', other: net.Socket) => () => {
      if (conn.closedAt === null) {
        conn.closedAt = Date.now();
        conn.closedBy = by;
      }
      other.destroy();
    };
    client.on('close', closed('client', upstream));
    upstream.on('close', closed('target', client));
    client.on('data', (d: Buffer) => (conn.bytesUp += d.length));
    upstream.on('data', (d: Buffer) => (conn.bytesDown += d.length));
    client.pipe(upstream);
    upstream.pipe(client);
  });
  return {
    url: `http://127.0.0.1:${await listen(server)}`,
    connections,
    close: () => closeServer(server, sockets),
  };
}
