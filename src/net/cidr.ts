import { canonicalIpFromBytes, ipBytes } from './address.ts';

/** An IP network: the address bytes with the host bits cleared (plain numbers: settings are deep-frozen), and the prefix length. */
export interface Cidr {
  readonly bytes: readonly number[];
  readonly prefix: number;
  /** As written back: `10.0.0.0/16`, `fd00:0:0:0:0:0:0:0/48` (the canonical address, see canonicalIp). */
  readonly text: string;
}

/**
 * `a.b.c.d/n` or `v6/n`, the host bits cleared (`10.0.0.5/16` is `10.0.0.0/16`, as Go's
 * net.ParseCIDR reads it); undefined for anything else. An IPv4-mapped IPv6 network
 * (`::ffff:10.0.0.0/104`) is the IPv4 network it maps (`10.0.0.0/8`), as an IPv4-mapped address
 * is the IPv4 address (canonicalIp); one shorter than /96 is refused.
 */
export function parseCidr(text: string): Cidr | undefined {
  const match = /^([^/\s]+)\/(\d{1,3})$/.exec(text.trim());
  if (!match) return undefined;
  let address = ipBytes(match[1]!);
  let prefix = Number(match[2]);
  if (address && isMapped(address)) {
    if (prefix < 96) return undefined;
    [address, prefix] = [address.subarray(12), prefix - 96];
  }
  if (!address || prefix > address.length * 8) return undefined;
  const masked = address.map((byte, i) => byte & maskByte(prefix, i));
  const shown = canonicalIpFromBytes(masked);
  return { bytes: Array.from(masked), prefix, text: `${shown}/${prefix}` };
}

/** Whether the IP literal `ip` lies in `cidr` (an IPv4 address never lies in an IPv6 network). */
export function cidrContains(cidr: Cidr, ip: string): boolean {
  const bytes = ipBytes(ip);
  if (!bytes || bytes.length !== cidr.bytes.length) return false;
  return bytes.every((byte, i) => (byte & maskByte(cidr.prefix, i)) === cidr.bytes[i]);
}

function maskByte(prefix: number, index: number): number {
  const bits = Math.max(0, Math.min(8, prefix - index * 8));
  return (0xff << (8 - bits)) & 0xff;
}

const isMapped = (bytes: Uint8Array): boolean => bytes.length === 16 && bytes.subarray(0, 12).every((b, i) => (i < 10 ? b === 0 : b === 0xff));
