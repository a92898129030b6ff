import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { Der, DerError, type DerNode } from './der.ts';

// The request's public key and its proof of possession, read and checked as Go's crypto/x509 does.

const KEY_OID = {
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
  [KEY_OID.ed25519]: { hash: null, key: 'ed25519' },
};

/** Named curves Go's x509 parses, with the length of one coordinate. */
const CURVES: Record<string, number> = {
  '1.2.840.10045.3.1.7': 32, // P-256
  '1.3.132.0.34': 48, // P-384
  '1.3.132.0.35': 66, // P-521
};

/** Go's crypto/rsa refuses to verify with keys this small; a kubelet uses 2048 bits. */
const MIN_RSA_BITS = 2048;

// ---- public key -------------------------------------------------------------------------------

export interface PublicKey {
  readonly kind: KeyKind | 'unknown';
  readonly spki: Buffer;
  /** RSA: the modulus length in bytes (a PKCS#1 v1.5 signature is exactly this long). */
  readonly modulusBytes?: number;
}

/** The key, checked the way Go's x509.parsePublicKey checks it: a malformed known key is an error. */
export function readPublicKey(node: DerNode): PublicKey {
  const spki = Der.sequence(node, 'subjectPKInfo');
  const algorithm = Der.sequence(spki.read(0x30, 'key algorithm'), 'key algorithm');
  const id = Der.oid(algorithm.read(0x06, 'key algorithm'));
  const parameters = algorithm.done() ? undefined : algorithm.next();
  algorithm.end('key algorithm');
  const bits = Der.bitString(spki.read(0x03, 'public key'));
  spki.end('subjectPKInfo');
  if (id === KEY_OID.rsaEncryption) {
    if (!parameters || parameters.tag !== 0x05 || parameters.content.length !== 0) throw new DerError('an RSA key without NULL parameters');
    const rsa = Der.sequence(Der.only(bits, 0x30, 'RSA public key'), 'RSA public key');
    const modulus = rsa.read(0x02, 'RSA modulus');
    const exponent = Der.integer(rsa.read(0x02, 'RSA exponent'));
    rsa.end('RSA public key');
    if (Der.integer(modulus) <= 0n || exponent <= 0n || exponent > 0x7fffffffn) throw new DerError('an RSA key with a non-positive modulus or a bad exponent');
    const modulusBytes = modulus.content[0] === 0 ? modulus.content.length - 1 : modulus.content.length;
    return { kind: 'rsa', spki: node.raw, modulusBytes };
  }
  if (id === KEY_OID.ecPublicKey) {
    const curve = parameters?.tag === 0x06 ? Der.oid(parameters) : undefined;
    const size = curve === undefined ? undefined : CURVES[curve];
    if (size === undefined) throw new DerError('an EC key on a curve other than P-256, P-384 or P-521');
    // Go reads only the uncompressed point form.
    if (bits.length !== 1 + 2 * size || bits[0] !== 0x04) throw new DerError('an EC key that is not an uncompressed point');
    return { kind: 'ec', spki: node.raw };
  }
  if (id === KEY_OID.ed25519) {
    if (parameters !== undefined || bits.length !== 32) throw new DerError('a malformed Ed25519 key');
    return { kind: 'ed25519', spki: node.raw };
  }
  // Go parses a request with a key it does not know, but its signature never checks.
  return { kind: 'unknown', spki: node.raw };
}

// ---- signature --------------------------------------------------------------------------------

export function checkSignature(signed: Buffer, key: PublicKey, algorithm: string, parameters: DerNode | undefined, signature: Buffer): boolean {
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
    // parseCertificateRequest reports a DerError as a RequestParseError
    throw new DerError('the public key does not load');
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
