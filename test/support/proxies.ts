import http from 'node:http';
import net from 'node:net';
import { closeServer, listen, trackSockets } from '../fakes/server-kit.js';

/**
 * Forward proxies for tests of per-account proxies: an HTTP proxy (CONNECT tunnels, as undici's
 * ProxyAgent uses for every target) and a SOCKS5 proxy (RFC 1928, CONNECT command, with RFC 1929
 * username/password auth), both demanding credentials and recording every connection: which
 * target it asked for, as whom, and whether it was let through.
 */
export interface ProxyConnection {
  /** `host:port` the client asked to reach. */
  target: string;
  user: string | null;
  accepted: boolean;
}

export interface TestProxy {
  /** The proxy URL with the right credentials, e.g. `socks5://user:pass@127.0.0.1:PORT`. */
  readonly url: string;
  readonly port: number;
  readonly connections: ProxyConnection[];
  /** Tunnels let through, optionally only those to `target` (`host:port` or a URL's origin). */
  accepted(target?: string): number;
  /** Connections turned away (wrong or missing credentials). */
  rejected(): number;
  /** The same proxy with another password (to test a wrong one). */
  withPassword(password: string): string;
  close(): Promise<void>;
}

export interface ProxyAuth {
  username: string;
  password: string;
  /**
   * Names only this proxy can resolve (`upstream.test` → `127.0.0.1`): an account whose base URL
   * uses one can reach its upstream through the proxy and no other way.
   */
  hosts?: Record<string, string>;
}

const hostPort = (target: string) => (/^[a-z]+:\/\//.test(target) ? new URL(target).host : target);

function proxyHandle(
  scheme: string,
  auth: ProxyAuth,
  server: net.Server,
  port: number,
  connections: ProxyConnection[],
  sockets: Set<net.Socket>,
): TestProxy {
  const url = (password: string) =>
    `${scheme}://${encodeURIComponent(auth.username)}:${encodeURIComponent(password)}@127.0.0.1:${port}`;
  return {
    url: url(auth.password),
    port,
    connections,
    accepted: (target) =>
      connections.filter((c) => c.accepted && (target === undefined || c.target === hostPort(target))).length,
    rejected: () => connections.filter((c) => !c.accepted).length,
    withPassword: url,
    close: () => closeServer(server, sockets),
  };
}

/** Joins two sockets both ways; either side closing closes the other. */
function splice(a: net.Socket, b: net.Socket) {
  a.pipe(b);
  b.pipe(a);
  a.on('close', () => b.destroy());
  b.on('close', () => a.destroy());
}

/** An HTTP proxy that answers CONNECT with a tunnel when `Proxy-Authorization: Basic` is right, else 407. */
export async function startHttpProxy(auth: ProxyAuth): Promise<TestProxy> {
  const connections: ProxyConnection[] = [];
  const sockets = new Set<net.Socket>();
  const expected = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
  const server = http.createServer((_req, res) => {
    // Plain proxying of absolute URLs is not offered: the relay's client always tunnels.
    res.writeHead(405, { 'content-type': 'text/plain' });
    res.end('CONNECT only');
  });
  server.on('connection', (s: net.Socket) => trackSockets(sockets, s));
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    const target = req.url ?? '';
    const given = req.headers['proxy-authorization'];
    const user = given?.startsWith('Basic ')
      ? (Buffer.from(given.slice(6), 'base64').toString().split(':')[0] ?? null)
      : null;
    if (given !== expected) {
      connections.push({ target, user, accepted: false });
      client.end(
        'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n',
      );
      return;
    }
    connections.push({ target, user, accepted: true });
    const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
    const upstream = net.connect(port, auth.hosts?.[host] ?? host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      splice(client, upstream);
    });
    trackSockets(sockets, upstream);
    upstream.on('error', () => client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n'));
  });
  return proxyHandle('http', auth, server, await listen(server), connections, sockets);
}

/** Reads exact byte counts from a socket during a handshake; `release` hands the rest over. */
function byteReader(socket: net.Socket) {
  let buf = Buffer.alloc(0);
  let wake: (() => void) | null = null;
  let ended = false;
  const onData = (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    wake?.();
  };
  const onEnd = () => {
    ended = true;
    wake?.();
  };
  socket.on('data', onData);
  socket.on('close', onEnd);
  return {
    async read(n: number): Promise<Buffer> {
      while (buf.length < n) {
        if (ended) throw new Error('socket closed during the handshake');
        await new Promise<void>((r) => (wake = r));
        wake = null;
      }
      const out = buf.subarray(0, n);
      buf = buf.subarray(n);
      return out;
    },
    /** Stops reading; returns what was received beyond the handshake. Pipe in the same tick. */
    release(): Buffer {
      socket.off('data', onData);
      socket.off('close', onEnd);
      return buf;
    },
  };
}

const REPLY = (code: number) => Buffer.from([0x05, code, 0x00, 0x01, 0, 0, 0, 0, 0, 0]);

/** A SOCKS5 proxy requiring username/password auth (method 0x02), serving CONNECT. */
export async function startSocks5Proxy(auth: ProxyAuth): Promise<TestProxy> {
  const connections: ProxyConnection[] = [];
  const sockets = new Set<net.Socket>();

  const serve = async (client: net.Socket) => {
    const r = byteReader(client);
    const greeting = await r.read(2);
    if (greeting[0] !== 0x05) return client.destroy();
    const methods = await r.read(greeting[1] ?? 0);
    if (!methods.includes(0x02)) {
      connections.push({ target: '', user: null, accepted: false });
      return client.end(Buffer.from([0x05, 0xff]));
    }
    client.write(Buffer.from([0x05, 0x02]));
    const userLength = (await r.read(2))[1] ?? 0;
    const user = (await r.read(userLength)).toString();
    const password = (await r.read((await r.read(1))[0] ?? 0)).toString();
    if (user !== auth.username || password !== auth.password) {
      connections.push({ target: '', user, accepted: false });
      return client.end(Buffer.from([0x01, 0x01]));
    }
    client.write(Buffer.from([0x01, 0x00]));
    const [, command, , addressType] = await r.read(4);
    let host: string;
    if (addressType === 0x01) host = [...(await r.read(4))].join('.');
    else if (addressType === 0x03) host = (await r.read((await r.read(1))[0] ?? 0)).toString();
    else if (addressType === 0x04) host = ((await r.read(16)).toString('hex').match(/.{4}/g) ?? []).join(':');
    else return client.destroy();
    const port = (await r.read(2)).readUInt16BE(0);
    const target = `${host}:${port}`;
    if (command !== 0x01) {
      connections.push({ target, user, accepted: false });
      return client.end(REPLY(0x07));
    }
    connections.push({ target, user, accepted: true });
    const upstream = net.connect(port, auth.hosts?.[host] ?? host, () => {
      client.write(REPLY(0x00));
      const rest = r.release();
      if (rest.length) upstream.write(rest);
      splice(client, upstream);
    });
    trackSockets(sockets, upstream);
    upstream.on('error', () => client.end(REPLY(0x05)));
  };

  const server = net.createServer((client) => {
    trackSockets(sockets, client);
    serve(client).catch(() => client.destroy());
  });
  return proxyHandle('socks5', auth, server, await listen(server), connections, sockets);
}
