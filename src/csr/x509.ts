import { createPublicKey, verify } from 'node:crypto';
import { canonicalIpFromBytes } from '../net/address.ts';

/** What the approval policy needs from a PKCS#10 request. */
export interface CertificateRequest {
  readonly commonNames: readonly string[];
  readonly organizations: readonly string[];
  readonly dnsNames: readonly string[];
  /** Canonical spellings; an address of the wrong length is kept as 'invalid'. */
  readonly ipAddresses: readonly string[];
  readonly emailAddresses: readonly string[];
  readonly uris: readonly string[];
  /** SAN kinds other than the four above (otherName, directoryName, ...). */
  readonly otherSanCount: number;
  /** The request is signed by the key it carries (proof of possession). */
  readonly signatureValid: boolean;
}

export class RequestParseError extends Error {}

const OID = {
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  extensionRequest: '1.2.840.113549.1.9.14',
  subjectAltName: '2.5.29.17',
} as const;

const SIGNATURE_HASH: Record<string, string | null> = {
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.3.101.112': null,
};

/**
 * Exactly one PEM block, no headers, strict base64. The signer reads the first block Go's
 * pem.Decode finds; accepting only input where that block is unambiguous guarantees the approver
 * checks the very request that gets signed (a second block or a lenient decode could differ).
 */
const SINGLE_PEM = /^\s*-----BEGIN CERTIFICATE REQUEST-----\r?\n([A-Za-z0-9+/=\r\n]+)-----END CERTIFICATE REQUEST-----\s*$/;

/** Parses the base64 `spec.request` of a CSR (a PEM "CERTIFICATE REQUEST" block). */
export function parseCertificateRequest(specRequest: string): CertificateRequest {
  const pem = Buffer.from(specRequest, 'base64').toString('latin1');
  const match = SINGLE_PEM.exec(pem);
  if (!match) throw new RequestParseError('spec.request is not exactly one PEM CERTIFICATE REQUEST block without headers');
  const body = match[1]!.replace(/[\r\n]+/g, '');
  const der = Buffer.from(body, 'base64');
  if (der.toString('base64') !== body) throw new RequestParseError('the PEM block is not strict base64');
  const top = new Reader(der);
  const outerNode = top.read(0x30);
  if (!top.done()) throw new RequestParseError('trailing data after the certificate request');
  const outer = readSequence(outerNode);
  const infoNode = outer.read(0x30);
  const algorithm = readSequence(outer.read(0x30));
  const signature = outer.read(0x03);
  const info = readSequence(infoNode);
  info.read(0x02); // version
  const subject = readName(info.read(0x30));
  const spki = info.read(0x30);
  const sans = info.done() ? emptySans() : readAttributes(info.read(0xa0));
  return {
    ...subject,
    ...sans,
    signatureValid: checkSignature(infoNode.raw, spki.raw, readOid(algorithm.read(0x06)), signature.content),
  };
}

interface Node {
  readonly tag: number;
  readonly content: Buffer;
  /** Tag, length and content: what a signature covers. */
  readonly raw: Buffer;
}

class Reader {
  private offset = 0;
  private readonly buffer: Buffer;
  constructor(buffer: Buffer) {
    this.buffer = buffer;
  }
  done(): boolean {
    return this.offset >= this.buffer.length;
  }
  next(): Node {
    const start = this.offset;
    const tag = this.byte();
    let length = this.byte();
    if (length & 0x80) {
      const bytes = length & 0x7f;
      if (bytes === 0 || bytes > 4) throw new RequestParseError('unsupported DER length');
      length = 0;
      for (let i = 0; i < bytes; i++) length = length * 256 + this.byte();
    }
    const end = this.offset + length;
    if (end > this.buffer.length) throw new RequestParseError('truncated DER');
    const node = { tag, content: this.buffer.subarray(this.offset, end), raw: this.buffer.subarray(start, end) };
    this.offset = end;
    return node;
  }
  read(tag: number): Node {
    const node = this.next();
    if (node.tag !== tag) throw new RequestParseError(`expected DER tag 0x${tag.toString(16)}, found 0x${node.tag.toString(16)}`);
    return node;
  }
  private byte(): number {
    if (this.offset >= this.buffer.length) throw new RequestParseError('truncated DER');
    return this.buffer[this.offset++]!;
  }
}

const readSequence = (node: Node): Reader => new Reader(node.content);

function readOid(node: Node): string {
  const bytes = node.content;
  const parts: number[] = [];
  let value = 0;
  for (const byte of bytes) {
    value = value * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      parts.push(value);
      value = 0;
    }
  }
  const first = parts.shift() ?? 0;
  const head = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80];
  return [...head, ...parts].join('.');
}

const STRING_TAGS = new Set([0x0c, 0x13, 0x16, 0x14, 0x1e]);

function readString(node: Node): string {
  if (!STRING_TAGS.has(node.tag)) throw new RequestParseError('subject attribute is not a string');
  if (node.tag === 0x1e) return Buffer.from(node.content).swap16().toString('utf16le');
  return node.content.toString(node.tag === 0x0c ? 'utf8' : 'latin1');
}

function readName(node: Node): Pick<CertificateRequest, 'commonNames' | 'organizations'> {
  const commonNames: string[] = [];
  const organizations: string[] = [];
  const rdns = readSequence(node);
  while (!rdns.done()) {
    const set = readSequence(rdns.read(0x31));
    while (!set.done()) {
      const pair = readSequence(set.read(0x30));
      const type = readOid(pair.read(0x06));
      if (type === OID.commonName) commonNames.push(readString(pair.next()));
      else if (type === OID.organization) organizations.push(readString(pair.next()));
    }
  }
  return { commonNames, organizations };
}

type Sans = Omit<CertificateRequest, 'commonNames' | 'organizations' | 'signatureValid'>;

function emptySans(): Sans {
  return { dnsNames: [], ipAddresses: [], emailAddresses: [], uris: [], otherSanCount: 0 };
}

function readAttributes(node: Node): Sans {
  const sans = emptySans() as { -readonly [K in keyof Sans]: Sans[K] extends readonly (infer E)[] ? E[] : Sans[K] };
  const attributes = readSequence(node);
  while (!attributes.done()) {
    const attribute = readSequence(attributes.read(0x30));
    if (readOid(attribute.read(0x06)) !== OID.extensionRequest) continue;
    const values = readSequence(attribute.read(0x31));
    while (!values.done()) {
      const extensions = readSequence(values.read(0x30));
      while (!extensions.done()) {
        const extension = readSequence(extensions.read(0x30));
        const id = readOid(extension.read(0x06));
        let value = extension.next();
        if (value.tag === 0x01) value = extension.next(); // critical flag
        if (id !== OID.subjectAltName) continue;
        const names = readSequence(readSequence(value).read(0x30));
        while (!names.done()) {
          const name = names.next();
          switch (name.tag) {
            case 0x82:
              sans.dnsNames.push(name.content.toString('latin1'));
              break;
            case 0x87:
              sans.ipAddresses.push(canonicalIpFromBytes(name.content) ?? 'invalid');
              break;
            case 0x81:
              sans.emailAddresses.push(name.content.toString('latin1'));
              break;
            case 0x86:
              sans.uris.push(name.content.toString('latin1'));
              break;
            default:
              sans.otherSanCount++;
          }
        }
      }
    }
  }
  return sans;
}

function checkSignature(signed: Buffer, spki: Buffer, algorithm: string, bitString: Buffer): boolean {
  const hash = SIGNATURE_HASH[algorithm];
  if (hash === undefined || bitString[0] !== 0) return false;
  try {
    const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
    return verify(hash, signed, key, bitString.subarray(1));
  } catch {
    return false;
  }
}
