// Builds real PKCS#10 certificate requests in-process: a minimal DER encoder plus node:crypto.
import crypto from 'node:crypto';
import net from 'node:net';

export interface CsrSpec {
  commonName?: string;
  /**
   * CN attributes written before `commonName`. Go's pkix.Name keeps the last CN it reads, so the
   * API server (NodeRestriction) and the signer see only `commonName`.
   */
  earlierCommonNames?: string[];
  organizations?: string[];
  dnsNames?: string[];
  /** IPv4 and IPv6 literals */
  ipAddresses?: string[];
  emailAddresses?: string[];
  uris?: string[];
  keyType?: 'ec' | 'rsa';
  /**
   * All organizations in one multi-valued RDN, the layout Go's pkix.Name.ToRDNSequence writes.
   * Default: one RDN per organization, as openssl writes. Parsers must accept both.
   */
  organizationsInOneRdn?: boolean;
}

// ---- DER primitives -------------------------------------------------------------------------

function tlv(tag: number, content: Buffer): Buffer {
  const n = content.length;
  let len: Buffer;
  if (n < 0x80) {
    len = Buffer.from([n]);
  } else {
    const bytes: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
    len = Buffer.from([0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([Buffer.from([tag]), len, content]);
}

const seq = (...items: Buffer[]): Buffer => tlv(0x30, Buffer.concat(items));
/** DER SET OF: elements sorted by their encoding. */
const set = (...items: Buffer[]): Buffer => tlv(0x31, Buffer.concat([...items].sort(Buffer.compare)));
// Go's encoding/asn1 writes a string without an explicit type as a PrintableString when every
// character is in that set (without '*' and '&'), else as a UTF8String: "system:nodes" and
// "system:node:<name>" are PrintableStrings in a real kubelet's request.
const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;
const directoryString = (s: string): Buffer => (PRINTABLE.test(s) ? tlv(0x13, Buffer.from(s, 'latin1')) : tlv(0x0c, Buffer.from(s, 'utf8')));
const octets = (b: Buffer): Buffer => tlv(0x04, b);
const bitString = (b: Buffer): Buffer => tlv(0x03, Buffer.concat([Buffer.from([0]), b]));
const derNull = Buffer.from([0x05, 0x00]);
const integerZero = Buffer.from([0x02, 0x01, 0x00]);

function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const [a = 0, b = 0, ...rest] = parts;
  const out: number[] = [];
  for (const v of [a * 40 + b, ...rest]) {
    const chunk: number[] = [v & 0x7f];
    for (let x = Math.floor(v / 128); x > 0; x = Math.floor(x / 128)) chunk.unshift((x & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

const OID = {
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  extensionRequest: '1.2.840.113549.1.9.14',
  subjectAltName: '2.5.29.17',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  sha256WithRsa: '1.2.840.113549.1.1.11',
};

// ---- IP literals ----------------------------------------------------------------------------

function ipBytes(ip: string): Buffer {
  if (net.isIPv4(ip)) return Buffer.from(ip.split('.').map(Number));
  if (!net.isIPv6(ip)) throw new Error(`not an IP address: ${ip}`);
  let text = ip.replace(/%.*$/, '');
  // an embedded IPv4 tail (::ffff:10.0.0.1) becomes two hex groups
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4?.[1]) {
    const b = v4[1].split('.').map(Number);
    const hi = ((b[0] ?? 0) << 8) | (b[1] ?? 0);
    const lo = ((b[2] ?? 0) << 8) | (b[3] ?? 0);
    text = text.slice(0, -v4[1].length) + `${hi.toString(16)}:${lo.toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? 0 : 8 - headGroups.length - tailGroups.length;
  const groups = [...headGroups, ...Array<string>(zeros).fill('0'), ...tailGroups];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

// ---- PKCS#10 --------------------------------------------------------------------------------

function subjectName(spec: CsrSpec): Buffer {
  // O before CN, the order Go's pkix.Name produces.
  const rdns: Buffer[] = [];
  const orgs = (spec.organizations ?? []).map((o) => seq(oid(OID.organization), directoryString(o)));
  if (spec.organizationsInOneRdn && orgs.length > 0) rdns.push(set(...orgs));
  else for (const o of orgs) rdns.push(set(o));
  for (const cn of spec.earlierCommonNames ?? []) rdns.push(set(seq(oid(OID.commonName), directoryString(cn))));
  if (spec.commonName !== undefined) rdns.push(set(seq(oid(OID.commonName), directoryString(spec.commonName))));
  return seq(...rdns);
}

function attributes(spec: CsrSpec): Buffer {
  const names: Buffer[] = [
    // Go's order: DNS, e-mail, IP, URI
    ...(spec.dnsNames ?? []).map((d) => tlv(0x82, Buffer.from(d, 'ascii'))),
    ...(spec.emailAddresses ?? []).map((e) => tlv(0x81, Buffer.from(e, 'ascii'))),
    ...(spec.ipAddresses ?? []).map((ip) => tlv(0x87, ipBytes(ip))),
    ...(spec.uris ?? []).map((u) => tlv(0x86, Buffer.from(u, 'ascii'))),
  ];
  if (names.length === 0) return tlv(0xa0, Buffer.alloc(0));
  const san = seq(oid(OID.subjectAltName), octets(seq(...names)));
  const extensionRequest = seq(oid(OID.extensionRequest), set(seq(san)));
  return tlv(0xa0, extensionRequest);
}

function newKey(keyType: 'ec' | 'rsa'): crypto.KeyObject {
  return keyType === 'rsa'
    ? crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
    : crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
}

export function buildCsr(spec: CsrSpec, key?: crypto.KeyObject): { pem: string; privateKey: crypto.KeyObject } {
  const privateKey = key ?? newKey(spec.keyType ?? 'ec');
  const isRsa = privateKey.asymmetricKeyType === 'rsa';
  const spki = crypto.createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  const info = seq(integerZero, subjectName(spec), spki, attributes(spec));
  const algorithm = isRsa ? seq(oid(OID.sha256WithRsa), derNull) : seq(oid(OID.ecdsaWithSha256));
  // crypto.sign gives a DER Ecdsa-Sig-Value for EC keys and PKCS#1 v1.5 for RSA keys
  const signature = crypto.sign('sha256', info, privateKey);
  const der = seq(info, algorithm, bitString(signature));
  return { pem: toPem(der), privateKey };
}

function toPem(der: Buffer): string {
  const b64 = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE REQUEST-----\n${b64.join('\n')}\n-----END CERTIFICATE REQUEST-----\n`;
}

function fromPem(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
}

/** Reads the header of the DER element at `at`: where its content starts and ends. */
function element(der: Buffer, at: number): { start: number; end: number } {
  const first = der[at + 1] ?? 0;
  let len = first;
  let start = at + 2;
  if (first & 0x80) {
    len = 0;
    for (let i = 0; i < (first & 0x7f); i++) len = len * 256 + (der[at + 2 + i] ?? 0);
    start += first & 0x7f;
  }
  return { start, end: start + len };
}

/** Flips one bit in the last byte of the signature: the request still parses, the signature fails. */
export function tamperSignature(pem: string): string {
  const der = fromPem(pem);
  const outer = element(der, 0);
  const info = element(der, outer.start);
  const alg = element(der, info.end);
  const sig = element(der, alg.end);
  if (der[alg.end] !== 0x03 || sig.end !== der.length) throw new Error('not a PKCS#10 request');
  const copy = Buffer.from(der);
  copy[sig.end - 1] = (copy[sig.end - 1] ?? 0) ^ 0x01;
  return toPem(copy);
}
