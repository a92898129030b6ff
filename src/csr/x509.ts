import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { Der, DerError, type DerNode } from './der.ts';

/** What the approval policy needs from a PKCS#10 request. */
export interface CertificateRequest {
  readonly commonNames: readonly string[];
  readonly organizations: readonly string[];
  /**
   * Subject content other than CN and O string values: other attribute types, other string
   * kinds, empty RDNs, each described in a few words. A kubelet writes none.
   */
  readonly otherSubjectAttributes: readonly string[];
  readonly dnsNames: readonly string[];
  /**
   * The addresses as carried: 4 bytes as a dotted quad, 16 bytes as 8 lowercase hex groups
   * without zero-compression (an IPv4-mapped address stays an IPv6 spelling here).
   */
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
  rsaEncryption: '1.2.840.113549.1.1.1',
  ecPublicKey: '1.2.840.10045.2.1',
  ed25519: '1.3.101.112',
} as const;

type KeyKind = 'rsa' | 'ec' | 'ed25519';

/** The signature algorithms the signer's parser checks, with the key kind each needs. */
const SIGNATURE_ALGORITHMS: Record<string, { hash: string | null; key: KeyKind }> = {
  '1.2.840.10045.4.3.2': { hash: 'sha256', key: 'ec' },
  '1.2.840.10045.4.3.3': { hash: 'sha384', key: 'ec' },
  '1.2.840.10045.4.3.4': { hash: 'sha512', key: 'ec' },
  '1.2.840.113549.1.1.11': { hash: 'sha256', key: 'rsa' },
  '1.2.840.113549.1.1.12': { hash: 'sha384', key: 'rsa' },
  '1.2.840.113549.1.1.13': { hash: 'sha512', key: 'rsa' },
  [OID.ed25519]: { hash: null, key: 'ed25519' },
};

/** Named curves Go's x509 parses, with the length of one coordinate. */
const CURVES: Record<string, number> = {
  '1.2.840.10045.3.1.7': 32, // P-256
  '1.3.132.0.34': 48, // P-384
  '1.3.132.0.35': 66, // P-521
};

/** Go's crypto/rsa refuses to verify with keys this small; a kubelet uses 2048 bits. */
const MIN_RSA_BITS = 2048;

/**
 * Exactly one PEM block, no headers, strict base64, each line ending in a line break. The signer
 * reads the first block Go's pem.Decode finds; accepting only input where that block is
 * unambiguous (and that pem.Decode reads the same way: it wants the END line to start a line,
 * the BEGIN line to start the text or a line, and nothing but spaces or tabs after the END
 * marker on its line) guarantees the approver checks the very request that gets signed.
 */
const SINGLE_PEM =
  /^(?:[ \t\r\n]*\n)?-----BEGIN CERTIFICATE REQUEST-----\r?\n((?:[A-Za-z0-9+/=]+\r?\n)+)-----END CERTIFICATE REQUEST-----[ \t]*(?:\r?\n[ \t\r\n]*)?$/;

/**
 * Parses the base64 `spec.request` of a CSR (a PEM "CERTIFICATE REQUEST" block) as strictly as
 * Go's encoding/asn1 and crypto/x509 read it, or more: DER only (minimal lengths and OIDs,
 * booleans 0x00/0xFF, no trailing bytes inside any structure), one extension request, no
 * duplicate extension, well-formed SANs. Anything Go could read differently is refused here.
 */
export function parseCertificateRequest(specRequest: string): CertificateRequest {
  const pem = Buffer.from(specRequest, 'base64').toString('latin1');
  const match = SINGLE_PEM.exec(pem);
  if (!match) throw new RequestParseError('spec.request is not exactly one PEM CERTIFICATE REQUEST block without headers');
  const body = match[1]!.replace(/[\r\n]+/g, '');
  const der = Buffer.from(body, 'base64');
  if (der.toString('base64') !== body) throw new RequestParseError('the PEM block is not strict base64');
  try {
    return parseDer(der);
  } catch (error) {
    if (error instanceof DerError) throw new RequestParseError(error.message);
    throw error;
  }
}

function parseDer(der: Buffer): CertificateRequest {
  const outer = Der.sequence(Der.only(der, 0x30, 'CertificationRequest'), 'CertificationRequest');
  const infoNode = outer.read(0x30, 'CertificationRequestInfo');
  const algorithm = Der.sequence(outer.read(0x30, 'signatureAlgorithm'), 'signatureAlgorithm');
  const signature = Der.bitString(outer.read(0x03, 'signature'));
  outer.end('CertificationRequest');

  const info = Der.sequence(infoNode, 'CertificationRequestInfo');
  if (Der.integer(info.read(0x02, 'version')) !== 0n) throw new RequestParseError('the request version is not 1 (0)');
  const subject = readName(info.read(0x30, 'subject'));
  const key = readPublicKey(info.read(0x30, 'subjectPKInfo'));
  const sans = readAttributes(info.read(0xa0, 'attributes'));
  info.end('CertificationRequestInfo');

  const algorithmId = Der.oid(algorithm.read(0x06, 'signature algorithm'));
  const parameters = algorithm.done() ? undefined : algorithm.next();
  algorithm.end('signatureAlgorithm');
  return { ...subject, ...sans, signatureValid: checkSignature(infoNode.raw, key, algorithmId, parameters, signature) };
}

// ---- subject ----------------------------------------------------------------------------------

const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?*&]*$/;
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The value of a CN or O: a UTF8String or PrintableString (what Go and openssl write), else undefined. */
function readString(node: DerNode): string | undefined {
  if (node.tag === 0x0c) {
    try {
      return UTF8.decode(node.content);
    } catch {
      throw new DerError('a UTF8String in the subject is not valid UTF-8');
    }
  }
  if (node.tag === 0x13) {
    const text = node.content.toString('latin1');
    if (!PRINTABLE.test(text)) throw new DerError('a PrintableString in the subject holds characters outside its set');
    return text;
  }
  return undefined;
}

function readName(node: DerNode): Pick<CertificateRequest, 'commonNames' | 'organizations' | 'otherSubjectAttributes'> {
  const commonNames: string[] = [];
  const organizations: string[] = [];
  const other: string[] = [];
  const rdns = Der.sequence(node, 'subject');
  while (!rdns.done()) {
    const set = Der.sequence(rdns.read(0x31, 'RDN'), 'RDN');
    if (set.done()) other.push('an empty RDN');
    while (!set.done()) {
      const pair = Der.sequence(set.read(0x30, 'AttributeTypeAndValue'), 'AttributeTypeAndValue');
      const type = Der.oid(pair.read(0x06, 'attribute type'));
      const valueNode = pair.next();
      pair.end('AttributeTypeAndValue');
      const value = type === OID.commonName || type === OID.organization ? readString(valueNode) : undefined;
      if (value === undefined) other.push(type === OID.commonName ? 'CN not a UTF8String or PrintableString' : type === OID.organization ? 'O not a UTF8String or PrintableString' : `attribute ${type}`);
      else (type === OID.commonName ? commonNames : organizations).push(value);
    }
  }
  return { commonNames, organizations, otherSubjectAttributes: other };
}

// ---- public key -------------------------------------------------------------------------------

interface PublicKey {
  readonly kind: KeyKind | 'unknown';
  readonly spki: Buffer;
  /** RSA: the modulus length in bytes (a PKCS#1 v1.5 signature is exactly this long). */
  readonly modulusBytes?: number;
}

/** The key, checked the way Go's x509.parsePublicKey checks it: a malformed known key is an error. */
function readPublicKey(node: DerNode): PublicKey {
  const spki = Der.sequence(node, 'subjectPKInfo');
  const algorithm = Der.sequence(spki.read(0x30, 'key algorithm'), 'key algorithm');
  const id = Der.oid(algorithm.read(0x06, 'key algorithm'));
  const parameters = algorithm.done() ? undefined : algorithm.next();
  algorithm.end('key algorithm');
  const bits = Der.bitString(spki.read(0x03, 'public key'));
  spki.end('subjectPKInfo');
  if (id === OID.rsaEncryption) {
    if (!parameters || parameters.tag !== 0x05 || parameters.content.length !== 0) throw new DerError('an RSA key without NULL parameters');
    const rsa = Der.sequence(Der.only(bits, 0x30, 'RSA public key'), 'RSA public key');
    const modulus = rsa.read(0x02, 'RSA modulus');
    const exponent = Der.integer(rsa.read(0x02, 'RSA exponent'));
    rsa.end('RSA public key');
    if (Der.integer(modulus) <= 0n || exponent <= 0n || exponent > 0x7fffffffn) throw new DerError('an RSA key with a non-positive modulus or a bad exponent');
    const modulusBytes = modulus.content[0] === 0 ? modulus.content.length - 1 : modulus.content.length;
    return { kind: 'rsa', spki: node.raw, modulusBytes };
  }
  if (id === OID.ecPublicKey) {
    const curve = parameters?.tag === 0x06 ? Der.oid(parameters) : undefined;
    const size = curve === undefined ? undefined : CURVES[curve];
    if (size === undefined) throw new DerError('an EC key on a curve other than P-256, P-384 or P-521');
    // Go reads only the uncompressed point form.
    if (bits.length !== 1 + 2 * size || bits[0] !== 0x04) throw new DerError('an EC key that is not an uncompressed point');
    return { kind: 'ec', spki: node.raw };
  }
  if (id === OID.ed25519) {
    if (parameters !== undefined || bits.length !== 32) throw new DerError('a malformed Ed25519 key');
    return { kind: 'ed25519', spki: node.raw };
  }
  // Go parses a request with a key it does not know, but its signature never checks.
  return { kind: 'unknown', spki: node.raw };
}

// ---- attributes and SANs ----------------------------------------------------------------------

type Sans = Omit<CertificateRequest, 'commonNames' | 'organizations' | 'otherSubjectAttributes' | 'signatureValid'>;
type MutableSans = { -readonly [K in keyof Sans]: Sans[K] extends readonly (infer E)[] ? E[] : Sans[K] };


function readAttributes(node: DerNode): Sans {
  const sans: MutableSans = { dnsNames: [], ipAddresses: [], emailAddresses: [], uris: [], otherSanCount: 0 };
  const attributes = Der.sequence(node, 'attributes');
  let extensionRequests = 0;
  while (!attributes.done()) {
    const attribute = Der.sequence(attributes.read(0x30, 'attribute'), 'attribute');
    const type = Der.oid(attribute.read(0x06, 'attribute type'));
    const values = Der.sequence(attribute.read(0x31, 'attribute values'), 'attribute values');
    attribute.end('attribute');
    const list: DerNode[] = [];
    while (!values.done()) list.push(values.next());
    if (type !== OID.extensionRequest) continue;
    // Go reads only the first value of each extensionRequest and merges several: allow exactly one of each.
    if (++extensionRequests > 1 || list.length !== 1) throw new DerError('more than one extension request, or one without exactly one value');
    readExtensions(list[0]!, sans);
  }
  return sans;
}

function readExtensions(node: DerNode, sans: MutableSans): void {
  if (node.tag !== 0x30) throw new DerError('the extension request is not a SEQUENCE of extensions');
  const extensions = Der.sequence(node, 'extensions');
  const seen = new Set<string>();
  while (!extensions.done()) {
    const extension = Der.sequence(extensions.read(0x30, 'extension'), 'extension');
    const id = Der.oid(extension.read(0x06, 'extension id'));
    let value = extension.next();
    if (value.tag === 0x01) {
      Der.boolean(value);
      value = extension.next();
    }
    if (value.tag !== 0x04) throw new DerError('an extension value is not an OCTET STRING');
    extension.end('extension');
    if (seen.has(id)) throw new DerError(`duplicate extension ${id}`);
    seen.add(id);
    if (id === OID.subjectAltName) readSans(value.content, sans);
  }
}

function readSans(der: Buffer, sans: MutableSans): void {
  const names = Der.sequence(Der.only(der, 0x30, 'subjectAltName'), 'subjectAltName');
  while (!names.done()) {
    const name = names.next();
    const ia5 = (kind: string) => {
      // Go's x509 refuses a SAN string that is not IA5 (ASCII).
      if (name.content.some((byte) => byte > 0x7f)) throw new DerError(`a ${kind} SAN is not ASCII`);
      return name.content.toString('latin1');
    };
    switch (name.tag) {
      case 0x82:
        sans.dnsNames.push(ia5('DNS'));
        break;
      case 0x87:
        if (name.content.length !== 4 && name.content.length !== 16) throw new DerError(`an IP SAN of ${name.content.length} bytes`);
        sans.ipAddresses.push(ipText(name.content));
        break;
      case 0x81:
        sans.emailAddresses.push(ia5('e-mail'));
        break;
      case 0x86:
        sans.uris.push(ia5('URI'));
        break;
      default:
        sans.otherSanCount++;
    }
  }
}

function ipText(bytes: Buffer): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  return groups.join(':');
}

// ---- signature --------------------------------------------------------------------------------

function checkSignature(signed: Buffer, key: PublicKey, algorithm: string, parameters: DerNode | undefined, signature: Buffer): boolean {
  const details = SIGNATURE_ALGORITHMS[algorithm];
  if (!details || details.key !== key.kind) return false;
  // RSA: NULL parameters or none; ECDSA and Ed25519: none (what Go and openssl write).
  if (parameters !== undefined && !(details.key === 'rsa' && parameters.tag === 0x05 && parameters.content.length === 0)) return false;
  if (details.key === 'rsa' && signature.length !== key.modulusBytes) return false;
  if (details.key === 'ec' && !isEcdsaSignature(signature)) return false;
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: key.spki, format: 'der', type: 'spki' });
  } catch {
    throw new RequestParseError('the public key does not load');
  }
  if (details.key === 'rsa' && (publicKey.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS) return false;
  try {
    return verify(details.hash, signed, publicKey, signature);
  } catch {
    return false;
  }
}

/** Ecdsa-Sig-Value in DER: two positive, minimal INTEGERs and nothing else. */
function isEcdsaSignature(signature: Buffer): boolean {
  try {
    const values = Der.sequence(Der.only(signature, 0x30, 'ECDSA signature'), 'ECDSA signature');
    const r = Der.integer(values.read(0x02, 'r'));
    const s = Der.integer(values.read(0x02, 's'));
    values.end('ECDSA signature');
    return r > 0n && s > 0n;
  } catch {
    return false;
  }
}
