// The shape of a kubelet's CSR: everything about it but the values that differ from machine to
// machine (names, addresses, keys). Two CSRs of the same kind from two kubelets have the same
// shape; the simulated kubelet's must equal a real one's (real-kubelets.test.ts).
import { Der, type DerNode } from '../../src/identity/der.ts';

export interface CsrShape {
  /** The name with its random or digest part left out: `csr-<random>` (generateName csr-) or `node-csr-<digest>`. */
  name: string;
  signerName: string;
  usages: string[];
  expirationSeconds: boolean;
  /** `bootstrapper`, `node-self` (system:node:<the CN's name>) or the user. */
  requester: string;
  groups: string[];
  /** Keys of spec.extra, sorted. */
  extra: string[];
  request: RequestShape;
}

export interface RequestShape {
  version: number;
  /** Each RDN: its attributes as `type:string kind` (`O:PrintableString`). */
  subject: string[][];
  /** `ec:<curve OID>` or `rsa:<bits>`. */
  key: string;
  signatureAlgorithm: string;
  /** Attributes by OID; for the extension request, its extensions. */
  attributes: string[];
  extensions: { id: string; critical: boolean }[];
  /** The kinds of the SAN entries in order (`dns`, `ip`, ...). */
  sanKinds: string[];
  dnsSorted: boolean;
  ipsSorted: boolean;
}

const NAMES: Record<string, string> = { '2.5.4.3': 'CN', '2.5.4.10': 'O', '1.2.840.113549.1.9.14': 'extensionRequest', '2.5.29.17': 'subjectAltName' };
const STRING_KINDS: Record<number, string> = { 0x0c: 'UTF8String', 0x13: 'PrintableString', 0x16: 'IA5String', 0x1e: 'BMPString' };
const SAN_KINDS: Record<number, string> = { 0x81: 'email', 0x82: 'dns', 0x86: 'uri', 0x87: 'ip' };

interface CsrObject {
  metadata: { name: string };
  spec: { request: string; signerName: string; usages?: string[]; expirationSeconds?: number; username: string; groups?: string[]; extra?: Record<string, string[]> };
}

export function csrShape(csr: CsrObject, bootstrapper: string): CsrShape {
  const request = requestShape(csr.spec.request);
  return {
    name: csr.metadata.name.replace(/^node-csr-[A-Za-z0-9_-]{43}$/, 'node-csr-<digest>').replace(/^csr-[a-z0-9]{5}$/, 'csr-<random>'),
    signerName: csr.spec.signerName,
    usages: csr.spec.usages ?? [],
    expirationSeconds: csr.spec.expirationSeconds !== undefined,
    requester: csr.spec.username === bootstrapper ? 'bootstrapper' : csr.spec.username.startsWith('system:node:') ? 'node-self' : csr.spec.username,
    groups: [...(csr.spec.groups ?? [])].sort(),
    extra: Object.keys(csr.spec.extra ?? {}).sort(),
    request,
  };
}

function pemToDer(specRequest: string): Buffer {
  const pem = Buffer.from(specRequest, 'base64').toString('latin1');
  return Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
}

export function requestShape(specRequest: string): RequestShape {
  const outer = Der.sequence(Der.only(pemToDer(specRequest), 0x30, 'CertificationRequest'), 'CertificationRequest');
  const info = Der.sequence(outer.read(0x30, 'info'), 'info');
  const algorithm = Der.sequence(outer.read(0x30, 'signatureAlgorithm'), 'signatureAlgorithm');
  const version = Number(Der.integer(info.read(0x02, 'version')));

  const subject: string[][] = [];
  const rdns = Der.sequence(info.read(0x30, 'subject'), 'subject');
  while (!rdns.done()) {
    const set = Der.sequence(rdns.read(0x31, 'RDN'), 'RDN');
    const rdn: string[] = [];
    while (!set.done()) {
      const pair = Der.sequence(set.read(0x30, 'attribute'), 'attribute');
      const type = Der.oid(pair.read(0x06, 'type'));
      const value = pair.next();
      rdn.push(`${NAMES[type] ?? type}:${STRING_KINDS[value.tag] ?? `tag 0x${value.tag.toString(16)}`}`);
    }
    subject.push(rdn);
  }

  const spki = Der.sequence(info.read(0x30, 'spki'), 'spki');
  const keyAlgorithm = Der.sequence(spki.read(0x30, 'key algorithm'), 'key algorithm');
  const keyOid = Der.oid(keyAlgorithm.read(0x06, 'key algorithm'));
  const keyParameter = keyAlgorithm.done() ? undefined : keyAlgorithm.next();
  const keyBits = Der.bitString(spki.read(0x03, 'key'));
  const key = keyOid === '1.2.840.10045.2.1' && keyParameter ? `ec:${Der.oid(keyParameter)}` : keyOid === '1.2.840.113549.1.1.1' ? `rsa:${rsaBits(keyBits)}` : keyOid;

  const attributes: string[] = [];
  const extensions: { id: string; critical: boolean }[] = [];
  const sanKinds: string[] = [];
  const dns: string[] = [];
  const ips: Buffer[] = [];
  const attributeSet = Der.sequence(info.read(0xa0, 'attributes'), 'attributes');
  while (!attributeSet.done()) {
    const attribute = Der.sequence(attributeSet.read(0x30, 'attribute'), 'attribute');
    const id = Der.oid(attribute.read(0x06, 'attribute type'));
    attributes.push(NAMES[id] ?? id);
    if (id !== '1.2.840.113549.1.9.14') continue;
    const values = Der.sequence(attribute.read(0x31, 'values'), 'values');
    const list = Der.sequence(values.read(0x30, 'extensions'), 'extensions');
    while (!list.done()) {
      const extension = Der.sequence(list.read(0x30, 'extension'), 'extension');
      const extensionId = Der.oid(extension.read(0x06, 'extension id'));
      let next: DerNode = extension.next();
      let critical = false;
      if (next.tag === 0x01) {
        critical = Der.boolean(next);
        next = extension.next();
      }
      extensions.push({ id: NAMES[extensionId] ?? extensionId, critical });
      if (extensionId !== '2.5.29.17') continue;
      const names = Der.sequence(Der.only(next.content, 0x30, 'SAN'), 'SAN');
      while (!names.done()) {
        const name = names.next();
        sanKinds.push(SAN_KINDS[name.tag] ?? `tag 0x${name.tag.toString(16)}`);
        if (name.tag === 0x82) dns.push(name.content.toString('latin1'));
        if (name.tag === 0x87) ips.push(Buffer.from(name.content));
      }
    }
  }
  const sorted = <T>(list: T[], compare: (a: T, b: T) => number) => list.every((v, i) => i === 0 || compare(list[i - 1]!, v) <= 0);
  return {
    version,
    subject,
    key,
    signatureAlgorithm: Der.oid(algorithm.read(0x06, 'signature algorithm')),
    attributes,
    extensions,
    sanKinds,
    dnsSorted: sorted(dns, (a, b) => (a < b ? -1 : a > b ? 1 : 0)),
    // the kubelet sorts them by Go's text form (net.IP.String)
    ipsSorted: sorted(ips.map(ipText), (a, b) => (a < b ? -1 : a > b ? 1 : 0)),
  };
}

function ipText(bytes: Buffer): string {
  if (bytes.length === 4) return [...bytes].join('.');
  const groups = Array.from({ length: bytes.length / 2 }, (_, i) => bytes.readUInt16BE(i * 2).toString(16));
  return new URL(`http://[${groups.join(':')}]`).hostname.slice(1, -1);
}

/** The modulus size of an RSA public key (PKCS#1 RSAPublicKey in the SPKI's bit string). */
function rsaBits(key: Buffer): number {
  const rsa = Der.sequence(Der.only(key, 0x30, 'RSAPublicKey'), 'RSAPublicKey');
  const modulus = rsa.read(0x02, 'modulus').content;
  return (modulus[0] === 0 ? modulus.length - 1 : modulus.length) * 8;
}
