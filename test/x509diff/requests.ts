// Certificate requests for the parser tests: real signed requests from test/sim/csr-builder.ts,
// taken apart into a DER tree, changed (encodings, structure, subject and SAN content, PEM
// framing) and signed again with the same key, so that the change reaches the parser instead of
// only breaking the signature.
import crypto from 'node:crypto';
import { buildCsr, type CsrSpec } from '../sim/csr-builder.ts';

// ---- a DER tree ------------------------------------------------------------------------------

export interface DerTree {
  tag: number;
  /** Constructed values (and OCTET STRINGs holding DER, such as extension values) have children. */
  children?: DerTree[];
  content?: Buffer;
  /** Encode the length with this many length bytes (long form, possibly non-minimal). */
  lengthBytes?: number;
  /** Encode with an indefinite length and an end-of-contents marker. */
  indefinite?: boolean;
  /** Encoded bytes taken as they are (tag, length and content). */
  raw?: Buffer;
  /** Write the tag in the high-tag-number form with this number (class and constructed bit from `tag`). */
  highTag?: number;
}

function readLength(der: Buffer, at: number): { length: number; start: number } {
  const first = der[at]!;
  if (first < 0x80) return { length: first, start: at + 1 };
  let length = 0;
  for (let i = 0; i < (first & 0x7f); i++) length = length * 256 + der[at + 1 + i]!;
  return { length, start: at + 1 + (first & 0x7f) };
}

/** Parses well-formed DER (what the builder writes) into a tree. */
export function parseTree(der: Buffer): DerTree[] {
  const nodes: DerTree[] = [];
  let at = 0;
  while (at < der.length) {
    const tag = der[at]!;
    const { length, start } = readLength(der, at + 1);
    const content = der.subarray(start, start + length);
    if (tag & 0x20) nodes.push({ tag, children: parseTree(content) });
    else nodes.push({ tag, content: Buffer.from(content) });
    at = start + length;
  }
  return nodes;
}

function encodeLength(length: number, lengthBytes?: number): Buffer {
  if (lengthBytes === undefined && length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let v = length; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  while (lengthBytes !== undefined && bytes.length < lengthBytes) bytes.unshift(0);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function encodeTree(node: DerTree): Buffer {
  if (node.raw) return node.raw;
  const content = node.children ? Buffer.concat(node.children.map(encodeTree)) : node.content!;
  const identifier = node.highTag === undefined ? Buffer.from([node.tag]) : Buffer.concat([Buffer.from([(node.tag & 0xe0) | 0x1f]), oidContent(`0.${node.highTag}`)]);
  if (node.indefinite) return Buffer.concat([identifier, Buffer.from([0x80]), content, Buffer.from([0, 0])]);
  return Buffer.concat([identifier, encodeLength(content.length, node.lengthBytes), content]);
}

export const tlv = (tag: number, content: Buffer | string): DerTree => ({ tag, content: Buffer.isBuffer(content) ? content : Buffer.from(content, 'latin1') });
export const cons = (tag: number, ...children: DerTree[]): DerTree => ({ tag, children });

export function oidContent(dotted: string): Buffer {
  const [a = 0, b = 0, ...rest] = dotted.split('.').map(Number);
  const out: number[] = [];
  for (const v of [a * 40 + b, ...rest]) {
    const chunk: number[] = [v & 0x7f];
    for (let x = Math.floor(v / 128); x > 0; x = Math.floor(x / 128)) chunk.unshift((x & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return Buffer.from(out);
}
export const oid = (dotted: string): DerTree => tlv(0x06, oidContent(dotted));

export const OIDS = {
  cn: '2.5.4.3',
  o: '2.5.4.10',
  ou: '2.5.4.11',
  c: '2.5.4.6',
  serialNumber: '2.5.4.5',
  email: '1.2.840.113549.1.9.1',
  challengePassword: '1.2.840.113549.1.9.7',
  extensionRequest: '1.2.840.113549.1.9.14',
  san: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  ecdsaSha256: '1.2.840.10045.4.3.2',
  ecdsaSha384: '1.2.840.10045.4.3.3',
  rsaSha256: '1.2.840.113549.1.1.11',
  rsaSha512: '1.2.840.113549.1.1.13',
  rsaSha1: '1.2.840.113549.1.1.5',
};

// ---- a request: info tree + key ---------------------------------------------------------------

export interface Request {
  /** CertificationRequestInfo: [version, subject, spki, attributes]. */
  info: DerTree;
  key: crypto.KeyObject;
  /** Signature AlgorithmIdentifier; default: what Go writes for the key. */
  algorithm?: DerTree;
  hash?: string;
}

/** A request from the simulator's builder, opened up. */
export function fromSpec(spec: CsrSpec, key?: crypto.KeyObject): Request {
  const { pem, privateKey } = buildCsr(spec, key);
  const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  const outer = parseTree(der)[0]!;
  const info = outer.children![0]!;
  // Open extension values (OCTET STRINGs holding DER) so mutations reach the SANs.
  for (const attribute of attributes(info).children ?? []) {
    for (const extension of attribute.children?.[1]?.children?.[0]?.children ?? []) {
      const value = extension.children!.at(-1)!;
      value.children = parseTree(value.content!);
      delete value.content;
    }
  }
  return { info, key: privateKey };
}

export const subject = (info: DerTree): DerTree => info.children![1]!;
export const spki = (info: DerTree): DerTree => info.children![2]!;
export const attributes = (info: DerTree): DerTree => info.children![3]!;

/** The GeneralNames SEQUENCE of the SAN extension, if there is one. */
export function sanNames(info: DerTree): DerTree | undefined {
  for (const attribute of attributes(info).children ?? []) {
    for (const extension of attribute.children?.[1]?.children?.[0]?.children ?? []) {
      if (extension.children?.[0]?.content?.equals(oidContent(OIDS.san))) return extension.children.at(-1)!.children?.[0];
    }
  }
  return undefined;
}

function defaultAlgorithm(key: crypto.KeyObject): { algorithm: DerTree; hash: string } {
  return key.asymmetricKeyType === 'rsa'
    ? { algorithm: cons(0x30, oid(OIDS.rsaSha256), tlv(0x05, '')), hash: 'sha256' }
    : { algorithm: cons(0x30, oid(OIDS.ecdsaSha256)), hash: 'sha256' };
}

/** Signs the (possibly changed) info again and frames it as PEM. */
export function sign(request: Request): Buffer {
  const info = encodeTree(request.info);
  const fallback = defaultAlgorithm(request.key);
  const signature = crypto.sign(request.hash ?? fallback.hash, info, request.key);
  return encodeTree(cons(0x30, { tag: 0, raw: info }, request.algorithm ?? fallback.algorithm, tlv(0x03, Buffer.concat([Buffer.from([0]), signature]))));
}

export function toPem(der: Buffer, lineLength = 64, eol = '\n'): string {
  const lines = der.toString('base64').match(new RegExp(`.{1,${lineLength}}`, 'g')) ?? [];
  return `-----BEGIN CERTIFICATE REQUEST-----${eol}${lines.join(eol)}${eol}-----END CERTIFICATE REQUEST-----${eol}`;
}

// ---- a seeded random source ---------------------------------------------------------------------

/** A small seeded generator (mulberry32), so a failing case can be reproduced from its seed. */
export class Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** Every node of a tree with its parent, depth first. */
export function walk(root: DerTree, visit: (node: DerTree, parent: DerTree | undefined) => void, parent?: DerTree): void {
  visit(root, parent);
  for (const child of root.children ?? []) walk(child, visit, root);
}

export function allNodes(root: DerTree): Array<{ node: DerTree; parent: DerTree | undefined }> {
  const list: Array<{ node: DerTree; parent: DerTree | undefined }> = [];
  walk(root, (node, parent) => list.push({ node, parent }));
  return list;
}

export const clone = (tree: DerTree): DerTree => ({
  ...tree,
  children: tree.children?.map(clone),
  content: tree.content ? Buffer.from(tree.content) : undefined,
});
