/**
 * The one custom JSON Logic operator: `{"ip_in_cidr": [<ip>, "10.0.0.0/8" | [ranges…]]}`, true when
 * the address lies in one of the ranges. Node's `BlockList` does the matching, so IPv4, IPv6 and
 * IPv4-mapped IPv6 addresses compare the way the network stack compares them.
 */
import { BlockList, isIP } from 'node:net';

export const IP_IN_CIDR = 'ip_in_cidr';

/** More ranges than this belong in a data point computed by the tenant, not in a condition. */
const MAX_RANGES = 100;

function parseRange(range: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } {
  const m = /^([^/]+)(?:\/(\d{1,3}))?$/.exec(range.trim());
  const version = m ? isIP(m[1]!) : 0;
  if (!m || version === 0)
    throw new Error(`"${range}" is not an IP address or CIDR range (e.g. 10.0.0.0/8, 2001:db8::/32)`);
  const bits = version === 4 ? 32 : 128;
  const prefix = m[2] === undefined ? bits : Number(m[2]);
  if (prefix > bits) throw new Error(`"${range}": an IPv${version} prefix length is 0 to ${bits}`);
  return { address: m[1]!, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** The ranges as a `BlockList`; throws, with a message fit for the tenant, when they are not valid ranges. */
export function blockList(ranges: unknown): BlockList {
  const list = typeof ranges === 'string' ? [ranges] : ranges;
  if (
    !Array.isArray(list) ||
    list.length === 0 ||
    list.length > MAX_RANGES ||
    !list.every((r) => typeof r === 'string')
  ) {
    throw new Error(`"${IP_IN_CIDR}" needs a CIDR range or an array of 1 to ${MAX_RANGES} of them`);
  }
  const blocks = new BlockList();
  for (const r of list) {
    const { address, prefix, family } = parseRange(r);
    blocks.addSubnet(address, prefix, family);
  }
  return blocks;
}

/** True when `ip` (IPv4, IPv6 or IPv4-mapped IPv6) lies in one of the ranges; false for a value that is no IP. */
export function ipInCidr(ip: unknown, ranges: unknown): boolean {
  const blocks = blockList(ranges);
  if (typeof ip !== 'string') return false;
  const address = ip.trim();
  const version = isIP(address);
  if (version === 0) return false;
  return blocks.check(address, version === 4 ? 'ipv4' : 'ipv6');
}
