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
 * net.ParseCIDR reads it); undefined for anything else. An IPv4-mapped IPv6 network stays IPv6.
 */
export function parseCidr(text: string): Cidr | undefined {
  const match = /^([^/\s]+)\/(\d{1,3})$/.exec(text.trim());
  if (!match) return undefined;
  const address = ipBytes(match[1]!);
  const prefix = Number(match[2]);
  if (!address || prefix > address.length * 8) return undefined;
  const masked = address.map((byte, i) => byte & maskByte(prefix, i));
  const shown = masked.length === 16 && masked.subarray(0, 12).every((b, i) => (i < 10 ? b === 0 : b === 0xff)) ? ipv6Text(masked) : canonicalIpFromBytes(masked);
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

function ipv6Text(bytes: Uint8Array): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return groups.join(':');
}
