import { isIP } from 'node:net';
import type { Subnet } from '../config/index.js';
import { subnetMatcher } from '../util/subnets.js';

/** Finds a request's client address from its socket peer and its X-Forwarded-For header. */
export type ClientAddressOf = (peer: string, forwardedFor: string | undefined) => string;

/** `::ffff:1.2.3.4` → `1.2.3.4`; `[::1]:80` and `1.2.3.4:80` lose their port; anything else is kept. */
function bareAddress(raw: string): string {
  let a = raw.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(a);
  if (bracketed?.[1]) a = bracketed[1];
  else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(a)) a = a.slice(0, a.lastIndexOf(':'));
  const mapped = /^(?:0{1,4}:){0,5}(?:0{0,4}:)?:?ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  return mapped?.[1] ?? a.toLowerCase();
}

/**
 * The client's address. Without `trustProxy`, the socket's peer. With it, and only when the peer
 * is one of the trusted proxies: X-Forwarded-For read from the right, skipping trusted proxies;
 * the first address that is not one is the client, as the nearest trusted proxy saw it. Entries
 * further left were written by the client itself and are never believed, so forging them neither
 * escapes a per-address limit nor locks another address out.
 */
export function clientAddressResolver(trustProxy: boolean, trusted: readonly Subnet[]): ClientAddressOf {
  const isTrusted = subnetMatcher(trusted);
  return (peer, forwardedFor) => {
    const client = bareAddress(peer);
    if (!trustProxy || !forwardedFor || !isTrusted(client)) return client;
    const hops = forwardedFor.split(',');
    let nearest = client;
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = bareAddress(hops[i] ?? '');
      // Garbage where a proxy should have written an address: believe no further.
      if (isIP(hop) === 0) return nearest;
      if (!isTrusted(hop)) return hop;
      nearest = hop;
    }
    return nearest;
  };
}
