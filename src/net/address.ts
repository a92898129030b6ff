import { isIPv4, isIPv6 } from 'node:net';

/** One spelling per address: IPv4 dotted quad, IPv6 as 8 lowercase hex groups without zero-compression. */
export function canonicalIp(text: string): string | undefined {
  // A zone (fe80::1%eth0) names a link on one host, never an address a certificate carries; Go's
  // net.ParseIP refuses it, node:net accepts it.
  if (text.includes('%')) return undefined;
  if (isIPv4(text)) return text.split('.').map((part) => String(Number(part))).join('.');
  if (!isIPv6(text)) return undefined;
  const bytes = ipv6Bytes(text.toLowerCase());
  return bytes === undefined ? undefined : canonicalIpFromBytes(bytes);
}

/** The canonical spelling of a 4- or 16-byte address as carried in an x509 iPAddress SAN. */
export function canonicalIpFromBytes(bytes: Uint8Array): string | undefined {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  if (bytes.length !== 16) return undefined;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  const text = groups.join(':');
  // IPv4-mapped IPv6 (::ffff:a.b.c.d) is the same machine as a.b.c.d.
  if (text.startsWith('0:0:0:0:0:ffff:')) return Array.from(bytes.subarray(12)).join('.');
  return text;
}

function ipv6Bytes(text: string): Uint8Array | undefined {
  let head = text;
  let tail: number[] = [];
  const dotted = text.match(/^(.*:)(\d+\.\d+\.\d+\.\d+)$/);
  if (dotted) {
    head = dotted[1]!.endsWith('::') ? dotted[1]! : dotted[1]!.slice(0, -1);
    const v4 = dotted[2]!.split('.').map(Number);
    tail = [(v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!];
  }
  const [left, right] = head.includes('::') ? head.split('::') : [head, undefined];
  const parse = (part: string | undefined) => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const leftGroups = parse(left);
  const rightGroups = [...parse(right), ...tail];
  const missing = 8 - leftGroups.length - rightGroups.length;
  if (missing < 0 || (right === undefined && missing !== 0)) return undefined;
  const groups = [...leftGroups, ...new Array<number>(right === undefined ? 0 : missing).fill(0), ...rightGroups];
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    bytes[i * 2] = g >> 8;
    bytes[i * 2 + 1] = g & 0xff;
  });
  return bytes;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** RFC 1123 subdomain, the rule Kubernetes applies to node names. */
export function isDnsSubdomain(name: string): boolean {
  return name.length > 0 && name.length <= 253 && name.split('.').every((label) => DNS_LABEL.test(label));
}

/** DNS names in certificates compare case-insensitively and without a trailing dot. */
export function canonicalDnsName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/** The 4 or 16 bytes of an IP literal (IPv4-mapped IPv6 stays 16 bytes), or undefined. */
export function ipBytes(text: string): Uint8Array | undefined {
  if (text.includes('%')) return undefined;
  if (isIPv4(text)) return Uint8Array.from(text.split('.').map(Number));
  return isIPv6(text) ? ipv6Bytes(text.toLowerCase()) : undefined;
}

export type SpecialIpKind = 'loopback' | 'unspecified' | 'link-local' | 'multicast' | 'broadcast' | 'ipv4-in-ipv6';

/**
 * Address ranges no machine serves from under its own name: loopback, unspecified (0.0.0.0/8,
 * ::), link-local, multicast, the limited broadcast address, and the IPv4-mapped (::ffff:a.b.c.d)
 * and IPv4-compatible (::a.b.c.d) IPv6 forms, which Go's VerifyHostname treats as the IPv4 address.
 */
export function specialIpKind(bytes: Uint8Array): SpecialIpKind | undefined {
  if (bytes.length === 4) {
    const [a, b] = [bytes[0]!, bytes[1]!];
    if (a === 127) return 'loopback';
    if (a === 0) return 'unspecified';
    if (a === 169 && b === 254) return 'link-local';
    if (a >= 224 && a <= 239) return 'multicast';
    if (bytes.every((x) => x === 255)) return 'broadcast';
    return undefined;
  }
  if (bytes.length !== 16) return undefined;
  const zeroTo = (end: number) => bytes.subarray(0, end).every((x) => x === 0);
  if (zeroTo(15) && bytes[15] === 1) return 'loopback';
  if (zeroTo(16)) return 'unspecified';
  if (bytes[0] === 0xfe && (bytes[1]! & 0xc0) === 0x80) return 'link-local';
  if (bytes[0] === 0xff) return 'multicast';
  if (zeroTo(10) && bytes[10] === 0xff && bytes[11] === 0xff) return 'ipv4-in-ipv6';
  if (zeroTo(12)) return 'ipv4-in-ipv6';
  return undefined;
}

const DNS_NAME_LABEL = /^[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?$/;

/**
 * An RFC 1123 host name in any ASCII case, without a trailing dot: what a DNS SAN may be. Its last
 * label is not all digits (RFC 3696 2): `10.0.0.5` as a DNS name would pass for the IP with
 * clients that match IP addresses against DNS SANs.
 */
export function isDnsName(name: string): boolean {
  const labels = name.split('.');
  return name.length > 0 && name.length <= 253 && labels.every((label) => DNS_NAME_LABEL.test(label)) && !/^\d+$/.test(labels.at(-1)!);
}
