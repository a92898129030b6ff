import { Der, DerError, type DerNode } from './der.ts';
import { checkSignature, readPublicKey } from './x509-key.ts';

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
} as const;


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
