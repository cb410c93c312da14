import { BlockList, isIP } from 'node:net';
import type { Subnet } from '../config/index.js';

/** A test of "is this address in one of these subnets" (false for anything that is not an IP). */
export function subnetMatcher(subnets: readonly Subnet[]): (address: string) => boolean {
  const list = new BlockList();
  for (const s of subnets) list.addSubnet(s.address, s.prefix, s.family);
  return (address) => {
    const version = isIP(address);
    return version !== 0 && list.check(address, version === 4 ? 'ipv4' : 'ipv6');
  };
}
