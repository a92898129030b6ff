// The differential corpus: kubelet requests for an inventory of machines (declared and undeclared
// addresses, short and FQDN names, IPv4, IPv6, dual stack, ECDSA and RSA keys), and mutations of
// them (DER encoding and structure, raw bytes, PEM framing, subject and SAN content, algorithms and
// keys), all from one seed.
import crypto from 'node:crypto';
import type { Csr, NodeInfo } from '../../src/cluster/objects.ts';
import { addressIndexOf } from '../../src/identity/addresses.ts';
import { BOOTSTRAPPER, CLIENT_SIGNER, SERVING_SIGNER, type PolicyView } from '../../src/identity/policy.ts';
import { ipBytes } from '../../src/net/address.ts';
import { parseNodes } from '../../src/settings/settings.ts';
import type { CsrSpec } from '../sim/csr-builder.ts';
import {
  allNodes,
  attributes,
  clone,
  cons,
  encodeTree,
  fromSpec,
  oid,
  oidContent,
  OIDS,
  Random,
  sanNames,
  sign,
  spki,
  subject,
  tlv,
  toPem,
  type DerTree,
  type Request,
} from './requests.ts';

const NODE_GROUPS = ['system:nodes', 'system:authenticated'];
const BOOTSTRAP_GROUPS = ['system:serviceaccounts', 'system:serviceaccounts:openshift-machine-config-operator', 'system:authenticated'];
const USAGES = {
  client: [['digital signature', 'client auth'], ['digital signature', 'key encipherment', 'client auth']],
  serving: [['digital signature', 'server auth'], ['digital signature', 'key encipherment', 'server auth']],
};

interface Machine {
  name: string;
  /** the names and addresses a kubelet of this machine puts in its serving request */
  dns: string[];
  ips: string[];
}

/** Serving machines: declared (the `nodes` input lists the addresses) and undeclared (the Node's own). */
const SERVING: Machine[] = [
  { name: 'w-decl-0', dns: ['w-decl-0', 'w-decl-0.example.com'], ips: ['10.0.0.10', '2001:db8::10'] },
  { name: 'w-decl-1.ocp.example.com', dns: ['w-decl-1.ocp.example.com'], ips: ['10.0.0.11'] },
  { name: 'w-decl-2', dns: ['w-decl-2'], ips: ['fd00::12'] },
  { name: 'w-und-0', dns: ['w-und-0', 'w-und-0.cluster.local'], ips: ['10.1.0.10', '2001:db8:1::10'] },
  { name: 'w-und-1.ocp.example.com', dns: ['w-und-1.ocp.example.com'], ips: ['10.1.0.11'] },
  { name: 'w-und-2', dns: ['w-und-2'], ips: ['fd00:1::12'] },
];
const CLIENTS = ['c-0', 'c-1.ocp.example.com', 'c-2'];

export function policyContext(): PolicyView {
  const lines = [
    ...SERVING.map((m) => (m.name.startsWith('w-decl') ? `${m.name} ${[...m.ips, ...m.dns].join(' ')}` : m.name)),
    ...CLIENTS,
    'master-0',
  ];
  const expected = new Map(parseNodes(lines.join('\n')).map((n) => [n.name, n]));
  const nodes = new Map<string, NodeInfo>();
  for (const m of SERVING) {
    const addresses = [
      { type: 'Hostname', address: m.name },
      ...m.dns.filter((d) => d !== m.name).map((address) => ({ type: 'InternalDNS', address })),
      ...m.ips.map((address, i) => ({ type: i % 2 === 0 ? 'InternalIP' : 'ExternalIP', address })),
    ];
    nodes.set(m.name, { name: m.name, ready: true, addresses });
  }
  nodes.set('master-0', { name: 'master-0', ready: true, addresses: [{ type: 'InternalIP', address: '10.0.0.1' }] });
  return { expected, nodes, clientApprovals: () => 0, addresses: addressIndexOf(expected.values(), nodes.values()) };
}

export interface CorpusEntry {
  /** what was done to the request, for a failure message */
  label: string;
  csr: Csr;
  /** an unmutated kubelet request: the policy must approve it */
  legitimate: boolean;
}

interface Base {
  phase: 'client' | 'serving';
  node: string;
  spec: CsrSpec;
  key: crypto.KeyObject;
  usages: string[];
}

class Keys {
  readonly ec: crypto.KeyObject[];
  readonly rsa: crypto.KeyObject[];
  readonly p384: crypto.KeyObject;
  constructor() {
    this.ec = Array.from({ length: 12 }, () => crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey);
    this.rsa = Array.from({ length: 3 }, () => crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
    this.p384 = crypto.generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey;
  }
}

function subsetOf<T>(rng: Random, items: readonly T[]): T[] {
  const chosen = items.filter(() => rng.chance(0.6));
  return chosen.length > 0 ? chosen : [rng.pick(items)];
}

function base(rng: Random, keys: Keys): Base {
  const rsa = rng.chance(0.25);
  const key = rsa ? rng.pick(keys.rsa) : rng.chance(0.05) ? keys.p384 : rng.pick(keys.ec);
  // Kubernetes >= 1.27 kubelets add key encipherment only for RSA keys; older ones always.
  const usages = (phase: 'client' | 'serving') => USAGES[phase][rsa || rng.chance(0.3) ? 1 : 0]!;
  if (rng.chance(0.3)) {
    const node = rng.pick(CLIENTS);
    return { phase: 'client', node, key, usages: usages('client'), spec: { commonName: `system:node:${node}`, organizations: ['system:nodes'], organizationsInOneRdn: rng.chance(0.5) } };
  }
  const machine = rng.pick(SERVING);
  const stack = rng.int(3); // 0 dual, 1 IPv4 only, 2 IPv6 only (where the machine has both)
  let ips = subsetOf(rng, machine.ips);
  if (stack === 1 && ips.some((ip) => !ip.includes(':'))) ips = ips.filter((ip) => !ip.includes(':'));
  if (stack === 2 && ips.some((ip) => ip.includes(':'))) ips = ips.filter((ip) => ip.includes(':'));
  const dnsNames = rng.chance(0.9) ? subsetOf(rng, machine.dns) : [];
  return {
    phase: 'serving',
    node: machine.name,
    key,
    usages: usages('serving'),
    spec: { commonName: `system:node:${machine.name}`, organizations: ['system:nodes'], dnsNames, ipAddresses: ips, organizationsInOneRdn: rng.chance(0.5) },
  };
}

let serial = 0;
function csrOf(b: Base, pem: string | Buffer): Csr {
  serial++;
  return {
    name: `csr-${serial}`,
    uid: `uid-${serial}`,
    resourceVersion: '1',
    createdAt: 0,
    signerName: b.phase === 'client' ? CLIENT_SIGNER : SERVING_SIGNER,
    username: b.phase === 'client' ? BOOTSTRAPPER : `system:node:${b.node}`,
    groups: b.phase === 'client' ? BOOTSTRAP_GROUPS : NODE_GROUPS,
    usages: b.usages,
    request: Buffer.from(pem).toString('base64'),
    state: 'pending',
    issued: false,
  };
}

// ---- mutations ----------------------------------------------------------------------------------

type Mutation = (rng: Random, request: Request, b: Base) => string;

const STRING_TAGS = [0x0c, 0x13, 0x16, 0x14, 0x1e, 0x12, 0x1c, 0x1a, 0x04];

function stringValue(tag: number, text: string): DerTree {
  if (tag === 0x1e) return tlv(tag, Buffer.from(text, 'utf16le').swap16());
  if (tag === 0x1c) return tlv(tag, Buffer.concat([...text].map((c) => Buffer.from([0, 0, 0, c.charCodeAt(0)]))));
  return tlv(tag, Buffer.from(text, tag === 0x0c ? 'utf8' : 'latin1'));
}
const atv = (type: string, value: DerTree): DerTree => cons(0x30, oid(type), value);
const rdn = (...values: DerTree[]): DerTree => cons(0x31, ...values);

/** The RDN holding the CN (the builder writes it last) and its value node. */
function cnValue(info: DerTree): DerTree {
  return subject(info).children!.at(-1)!.children![0]!.children![1]!;
}

/** A SAN extension inside a fresh extensionRequest attribute. */
function sanExtension(names: DerTree[], critical?: number): DerTree {
  const parts = [oid(OIDS.san), ...(critical === undefined ? [] : [tlv(0x01, Buffer.from([critical]))]), cons(0x04, cons(0x30, ...names))];
  return cons(0x30, ...parts);
}
const extensionRequest = (...values: DerTree[]): DerTree => cons(0x30, oid(OIDS.extensionRequest), cons(0x31, ...values));

function extensionsOf(info: DerTree): DerTree | undefined {
  for (const attribute of attributes(info).children ?? []) {
    if (attribute.children?.[0]?.content?.equals(oidContent(OIDS.extensionRequest))) return attribute.children[1]!.children![0];
  }
  return undefined;
}

const ipSan = (text: string): DerTree => tlv(0x87, Buffer.from(ipBytes(text)!));

const BAD_DNS = [
  '*.apps.example.com', '*', 'w-decl-0.*', '*w-und-0', 'W-DECL-0', 'W-Und-0.Cluster.Local', 'w-und-0.', 'w-decl-0.', '', '.', 'w-und-0..cluster.local',
  '-w-und-0', 'w-und-0-', 'w_und_0', 'w-und-0 ', ' w-und-0', 'w-und-0\u0000', 'w-und-0\u00e9', 'x'.repeat(64), `w-und-0.${'a'.repeat(63)}`, `w-und-0.${'a.'.repeat(125)}a`,
  'localhost', 'kubernetes.default.svc', 'api.ocp.example.com', 'w-und-0.example.com.evil', 'xw-und-0', 'w-und-0x', 'w-und-0.nip.io', 'master-0', 'w-decl-0',
  'w-und-0.cluster.local', 'w-und-0.any.thing', 'xn--w-und-0', '1.2.3.4', 'w-und-0\u212a',
];
const BAD_IPS = [
  '127.0.0.1', '127.1.2.3', '0.0.0.0', '0.1.2.3', '169.254.169.254', '224.0.0.1', '239.255.255.250', '255.255.255.255', '::1', '::', 'fe80::1', 'febf::1',
  'ff02::1', '::ffff:10.0.0.10', '::ffff:10.1.0.10', '::10.1.0.10', '::ffff:127.0.0.1', '10.0.0.99', '10.0.0.1', '10.1.0.10', '2001:db8:1::10', 'fd00::12', 'fec0::1',
];

const contentMutations: Record<string, Mutation> = {
  extraSubjectAttribute(rng, r) {
    const type = rng.pick([OIDS.ou, OIDS.c, OIDS.serialNumber, OIDS.email, '2.5.4.7', '1.2.3.4']);
    const rdns = subject(r.info).children!;
    rdns.splice(rng.int(rdns.length + 1), 0, rdn(atv(type, stringValue(rng.pick([0x0c, 0x13]), rng.pick(['US', 'system:masters', 'x'])))));
    return `extra subject attribute ${type}`;
  },
  extraAttributeInRdn(rng, r) {
    const rdns = subject(r.info).children!;
    rng.pick(rdns).children!.push(atv(rng.pick([OIDS.ou, OIDS.cn, OIDS.o]), stringValue(0x0c, rng.pick(['system:masters', 'system:nodes', 'system:node:master-0']))));
    return 'extra value in an RDN';
  },
  secondCommonName(rng, r, b) {
    const rdns = subject(r.info).children!;
    const value = rng.pick([`system:node:${b.node}`, 'system:node:master-0', 'system:admin']);
    rdns.splice(rng.int(rdns.length + 1), 0, rdn(atv(OIDS.cn, stringValue(rng.pick([0x0c, 0x13]), value))));
    return `second CN ${value}`;
  },
  secondOrganization(rng, r) {
    const rdns = subject(r.info).children!;
    const value = rng.pick(['system:nodes', 'system:masters', 'system:cluster-admins']);
    rdns.splice(rng.int(rdns.length + 1), 0, rdn(atv(OIDS.o, stringValue(rng.pick([0x0c, 0x13, 0x16]), value))));
    return `second O ${value}`;
  },
  stringKind(rng, r, b) {
    const tag = rng.pick(STRING_TAGS);
    const target = rng.chance(0.5) ? 'CN' : 'O';
    const rdns = subject(r.info).children!;
    const node = target === 'CN' ? cnValue(r.info) : rdns[0]!.children![0]!.children![1]!;
    Object.assign(node, stringValue(tag, target === 'CN' ? `system:node:${b.node}` : 'system:nodes'));
    return `${target} as string tag 0x${tag.toString(16)}`;
  },
  subjectLayout(rng, r) {
    const rdns = subject(r.info).children!;
    const choice = rng.int(4);
    if (choice === 0) rdns.reverse();
    else if (choice === 1) subject(r.info).children = [rdn(...rdns.flatMap((x) => x.children!))];
    else if (choice === 2) rdns.splice(rng.int(rdns.length + 1), 0, rdn());
    else subject(r.info).children = [];
    return ['CN before O', 'CN and O in one RDN', 'an empty RDN', 'an empty subject'][choice]!;
  },
  commonNameText(rng, r, b) {
    const name = b.node;
    const text = rng.pick([`system:node:${name}\u0000`, `system:node:${name} `, `System:Node:${name}`, `system:node:${name.toUpperCase()}`, `\ufeffsystem:node:${name}`, `system:node:${name}\u00e9`, 'system:node:', `system:node:${name}.`]);
    const bytes = rng.chance(0.2) ? Buffer.concat([Buffer.from(text, 'utf8'), Buffer.from([0xff])]) : Buffer.from(text, 'utf8');
    Object.assign(cnValue(r.info), tlv(0x0c, bytes));
    return `CN ${JSON.stringify(text)}`;
  },
  organizationText(rng, r) {
    const node = subject(r.info).children![0]!.children![0]!.children![1]!;
    const text = rng.pick(['system:nodes ', 'System:Nodes', '\ufeffsystem:nodes', 'system:nodes\u0000', 'system:node', '']);
    Object.assign(node, tlv(0x0c, Buffer.from(text, 'utf8')));
    return `O ${JSON.stringify(text)}`;
  },
  dnsSan(rng, r, b) {
    const names = ensureSans(r);
    const text = rng.pick(BAD_DNS).replaceAll('w-und-0', rng.chance(0.5) ? b.node : 'w-und-0');
    const entry = tlv(0x82, Buffer.from(text, 'latin1'));
    if (rng.chance(0.5) && names.children!.length > 0) names.children![rng.int(names.children!.length)] = entry;
    else names.children!.splice(rng.int(names.children!.length + 1), 0, entry);
    return `DNS SAN ${JSON.stringify(text)}`;
  },
  ipSan(rng, r) {
    const names = ensureSans(r);
    const text = rng.pick(BAD_IPS);
    const entry = ipSan(text);
    if (rng.chance(0.5) && names.children!.length > 0) names.children![rng.int(names.children!.length)] = entry;
    else names.children!.splice(rng.int(names.children!.length + 1), 0, entry);
    return `IP SAN ${text}`;
  },
  ipSanLength(rng, r) {
    const names = ensureSans(r);
    const length = rng.pick([0, 1, 3, 5, 8, 15, 17, 32]);
    names.children!.push(tlv(0x87, Buffer.alloc(length, 10)));
    return `IP SAN of ${length} bytes`;
  },
  otherSanKind(rng, r) {
    const names = ensureSans(r);
    const entry = rng.pick([
      tlv(0x81, 'root@w-und-0'),
      tlv(0x86, 'spiffe://cluster.local/ns/default/sa/x'),
      tlv(0x86, 'http://[::1'),
      cons(0xa0, oid('1.3.6.1.4.1.311.20.2.3'), cons(0xa0, tlv(0x0c, 'x'))),
      cons(0xa4, cons(0x30)),
      tlv(0x88, oidContent('1.2.3')),
      cons(0xa2, tlv(0x16, 'w-und-0')),
      tlv(0x02, Buffer.from([1])),
      cons(0xa3),
    ]);
    names.children!.splice(rng.int(names.children!.length + 1), 0, entry);
    return `SAN of tag 0x${entry.tag.toString(16)}`;
  },
  sanOrder(rng, r) {
    const names = sanNames(r.info);
    if (!names) return 'no SANs to reorder';
    const choice = rng.int(3);
    if (choice === 0) names.children!.reverse();
    else if (choice === 1 && names.children!.length > 0) names.children!.push(clone(rng.pick(names.children!)));
    else names.children = [];
    return ['SANs reversed', 'a SAN twice', 'an empty SAN list'][choice]!;
  },
  extensionShape(rng, r, b) {
    const extensions = extensionsOf(r.info);
    const names = sanNames(r.info);
    const copy = () => (names ? clone(names) : cons(0x30, tlv(0x82, b.node)));
    const choice = rng.int(9);
    const attrs = attributes(r.info).children!;
    switch (choice) {
      case 0: // critical SAN
        if (extensions) extensions.children![0]!.children!.splice(1, 0, tlv(0x01, Buffer.from([rng.pick([0xff, 0x00, 0x01, 0x80])])));
        break;
      case 1:
        (extensions?.children ?? []).push(cons(0x30, oid(OIDS.basicConstraints), tlv(0x01, Buffer.from([0xff])), cons(0x04, cons(0x30))));
        if (!extensions) attrs.push(extensionRequest(cons(0x30, cons(0x30, oid(OIDS.basicConstraints), cons(0x04, cons(0x30))))));
        break;
      case 2: // a duplicate SAN extension
        if (extensions) extensions.children!.push(cons(0x30, oid(OIDS.san), cons(0x04, copy())));
        break;
      case 3: // a second extensionRequest attribute
        attrs.push(extensionRequest(cons(0x30, rng.chance(0.5) ? sanExtension(copy().children!) : cons(0x30, oid(OIDS.keyUsage), cons(0x04, tlv(0x03, Buffer.from([5, 0xa0])))))));
        break;
      case 4: // a second value in the extensionRequest SET: Go reads only the first
        if (extensions) attrs.find((a) => a.children?.[1]?.children?.[0] === extensions)!.children![1]!.children!.push(cons(0x30, sanExtension([tlv(0x82, '*.apps.example.com')])));
        break;
      case 5: // an extensionRequest with no value
        attrs.push(cons(0x30, oid(OIDS.extensionRequest), cons(0x31)));
        break;
      case 6: // an unrelated attribute
        attrs.splice(rng.int(attrs.length + 1), 0, cons(0x30, oid(OIDS.challengePassword), cons(0x31, tlv(0x13, 'secret'))));
        break;
      case 7: // something that is not an attribute
        attrs.push(rng.pick([tlv(0x05, ''), cons(0x31), cons(0x30, oid(OIDS.extensionRequest)), cons(0x30, tlv(0x02, Buffer.from([1])), cons(0x31))]));
        break;
      default: // SANs on a request that had none, or an empty extension list
        if (!extensions) attrs.push(extensionRequest(cons(0x30, sanExtension([tlv(0x82, b.node)]))));
        else extensions.children = [];
    }
    return `extension shape ${choice}`;
  },
  algorithm(rng, r) {
    const ec = r.key.asymmetricKeyType === 'ec';
    const choice = rng.int(6);
    if (choice === 0) r.algorithm = cons(0x30, oid(ec ? OIDS.ecdsaSha256 : OIDS.rsaSha256), tlv(0x05, ''));
    else if (choice === 1) r.algorithm = cons(0x30, oid(ec ? OIDS.ecdsaSha256 : OIDS.rsaSha256));
    else if (choice === 2) {
      r.algorithm = cons(0x30, oid(ec ? OIDS.ecdsaSha384 : OIDS.rsaSha512), ...(ec ? [] : [tlv(0x05, '')]));
      r.hash = ec ? 'sha384' : 'sha512';
    } else if (choice === 3) {
      r.algorithm = cons(0x30, oid(ec ? OIDS.rsaSha256 : OIDS.ecdsaSha256), ...(ec ? [tlv(0x05, '')] : []));
    } else if (choice === 4 && !ec) {
      r.algorithm = cons(0x30, oid(OIDS.rsaSha1), tlv(0x05, ''));
      r.hash = 'sha1';
    } else r.algorithm = cons(0x30, oid(ec ? OIDS.ecdsaSha256 : OIDS.rsaSha256), tlv(0x04, ''));
    return `signature algorithm variant ${choice}`;
  },
  publicKey(rng, r) {
    const key = spki(r.info);
    const [algorithm, bits] = key.children!;
    const choice = rng.int(4);
    if (choice === 0 && r.key.asymmetricKeyType === 'ec') {
      // the same point, compressed: openssl reads it, Go does not
      const point = bits!.content!.subarray(1);
      const x = point.subarray(1, 1 + (point.length - 1) / 2);
      const y = point.subarray(1 + (point.length - 1) / 2);
      bits!.content = Buffer.concat([Buffer.from([0, 2 + (y.at(-1)! & 1)]), x]);
    } else if (choice === 1) {
      if (algorithm!.children!.length > 1) algorithm!.children!.pop();
      else algorithm!.children!.push(tlv(0x05, ''));
    } else if (choice === 2) bits!.content = Buffer.concat([Buffer.from([0]), bits!.content!.subarray(1), Buffer.from([0])]);
    else Object.assign(key, { children: [algorithm, { ...bits, content: Buffer.concat([Buffer.from([1]), bits!.content!.subarray(1)]) }] });
    return `public key variant ${choice}`;
  },
  version(rng, r) {
    const value = rng.pick([Buffer.from([1]), Buffer.from([2]), Buffer.from([0, 0]), Buffer.from([]), Buffer.from([0xff])]);
    r.info.children![0] = tlv(0x02, value);
    return `version ${value.toString('hex') || 'empty'}`;
  },
};

function ensureSans(r: Request): DerTree {
  const names = sanNames(r.info);
  if (names) return names;
  const fresh = cons(0x30);
  attributes(r.info).children!.push(extensionRequest(cons(0x30, cons(0x30, oid(OIDS.san), cons(0x04, fresh)))));
  return fresh;
}

/** DER structure: lengths, tags, OIDs, booleans, integers, trailing and duplicated elements. */
function structuralMutation(rng: Random, r: Request): string {
  const nodes = allNodes(r.info);
  const { node, parent } = rng.pick(nodes);
  const choice = rng.int(11);
  switch (choice) {
    case 0:
      node.lengthBytes = rng.pick([1, 2, 3, 4]);
      return `long-form length (${node.lengthBytes} bytes) on tag 0x${node.tag.toString(16)}`;
    case 1:
      if (!node.children) return structuralMutation(rng, r);
      node.indefinite = true;
      return `indefinite length on tag 0x${node.tag.toString(16)}`;
    case 2:
      if (!node.children) return structuralMutation(rng, r);
      node.children.push(rng.pick([tlv(0x05, ''), tlv(0x02, Buffer.from([0])), tlv(0x04, ''), oid('1.2.3'), cons(0x30)]));
      return `trailing element inside tag 0x${node.tag.toString(16)}`;
    case 3: {
      const oids = nodes.filter((n) => n.node.tag === 0x06);
      const target = rng.pick(oids).node;
      const bytes = [...target.content!];
      const starts = bytes.map((_, i) => i).filter((i) => i === 0 || (bytes[i - 1]! & 0x80) === 0);
      bytes.splice(rng.pick(starts), 0, 0x80);
      target.content = Buffer.from(bytes);
      return 'OID sub-identifier with a leading 0x80';
    }
    case 4: {
      const tag = rng.pick([0x30, 0x31, 0x04, 0x0c, 0x13, 0x16, 0x82, 0xa2, 0xa0, 0x10, 0x11, 0x02, 0x05, node.tag ^ 0x20, node.tag ^ 0x80]);
      node.tag = tag;
      return `tag changed to 0x${tag.toString(16)}`;
    }
    case 5:
      if (!node.children || node.children.length === 0) return structuralMutation(rng, r);
      node.children.splice(rng.int(node.children.length + 1), 0, clone(rng.pick(node.children)));
      return `duplicated element inside tag 0x${node.tag.toString(16)}`;
    case 6:
      if (!node.children || node.children.length === 0) return structuralMutation(rng, r);
      node.children.splice(rng.int(node.children.length), 1);
      return `removed element inside tag 0x${node.tag.toString(16)}`;
    case 7:
      if (!node.children || node.children.length < 2) return structuralMutation(rng, r);
      node.children.reverse();
      return `reversed elements inside tag 0x${node.tag.toString(16)}`;
    case 8:
      if (node.children || !parent) return structuralMutation(rng, r);
      node.content = rng.chance(0.5) ? Buffer.concat([Buffer.from([0]), node.content!]) : Buffer.concat([node.content!, Buffer.from([rng.int(256)])]);
      return `content of tag 0x${node.tag.toString(16)} grown by a byte`;
    case 9:
      node.highTag = rng.chance(0.5) ? node.tag & 0x1f : 31 + rng.int(3);
      return `high-tag-number form (${node.highTag}) for tag 0x${node.tag.toString(16)}`;
    default: {
      const extension = extensionsOf(r.info)?.children?.[0];
      if (!extension) return structuralMutation(rng, r);
      const value = rng.pick([Buffer.from([0x01]), Buffer.from([0x7f]), Buffer.from([0x00, 0x00]), Buffer.from([])]);
      extension.children!.splice(1, 0, tlv(0x01, value));
      return `BOOLEAN critical ${value.toString('hex') || 'empty'}`;
    }
  }
}

/** Raw bytes of the signed info: flipped, inserted, deleted, truncated. */
function rawInfoMutation(rng: Random, r: Request): string {
  const bytes = [...encodeTree(r.info)];
  const at = rng.int(bytes.length);
  const choice = rng.int(4);
  if (choice === 0) bytes[at] = bytes[at]! ^ (1 << rng.int(8));
  else if (choice === 1) bytes.splice(at, 0, rng.int(256));
  else if (choice === 2) bytes.splice(at, 1);
  else bytes.length = at;
  r.info = { tag: 0, raw: Buffer.from(bytes) };
  return `info byte ${['flipped', 'inserted', 'deleted', 'truncated'][choice]} at ${at}`;
}

/** PEM framing around a valid request. */
const PEM_MUTATIONS: Array<[string, (pem: string, der: Buffer, other: string) => string]> = [
  ['CRLF line ends', (p) => p.replace(/\n/g, '\r\n')],
  ['76-character lines', (_, d) => toPem(d, 76)],
  ['one base64 line', (_, d) => toPem(d, 100000)],
  ['no final line break', (p) => p.trimEnd()],
  ['a blank line first', (p) => `\n${p}`],
  ['spaces and a line break first', (p) => `  \n${p}`],
  ['spaces first', (p) => `  ${p}`],
  ['text first', (p) => `garbage\n${p}`],
  ['text after', (p) => `${p}garbage\n`],
  ['spaces after END', (p) => p.replace(/-----\n$/, '-----  \n')],
  ['tab after END', (p) => p.replace(/-----\n$/, '-----\t')],
  ['vertical tab after END', (p) => p.replace(/-----\n$/, '-----\v\n')],
  ['form feed after END', (p) => p.replace(/-----\n$/, '-----\f')],
  ['no-break space after END', (p) => p.replace(/-----\n$/, '-----\u00a0\n')],
  ['CR only after END', (p) => p.replace(/-----\n$/, '-----\r')],
  ['END on the last base64 line', (p) => p.replace(/\n-----END/, '-----END')],
  ['a space inside the base64', (p) => p.replace(/\n([A-Za-z0-9+/]{8})/, '\n$1 ')],
  ['a tab inside the base64', (p) => p.replace(/\n([A-Za-z0-9+/]{8})/, '\n$1\t')],
  ['a blank line inside the base64', (p) => p.replace(/\n([A-Za-z0-9+/]{64})\n/, '\n$1\n\n')],
  ['a header', (p) => p.replace('-----\n', '-----\nProc-Type: 4,ENCRYPTED\n\n')],
  ['two blocks', (p, _, o) => p + o],
  ['two blocks, ours second', (p, _, o) => o + p],
  ['lower-case type', (p) => p.replaceAll('CERTIFICATE REQUEST', 'certificate request')],
  ['NEW CERTIFICATE REQUEST', (p) => p.replaceAll('CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST')],
  ['type CERTIFICATE', (p) => p.replaceAll('CERTIFICATE REQUEST', 'CERTIFICATE')],
  ['END of another type', (p) => p.replace('END CERTIFICATE REQUEST', 'END CERTIFICATE')],
  ['spaces after BEGIN', (p) => p.replace('REQUEST-----\n', 'REQUEST-----  \n')],
  ['CR only line ends', (p) => p.replace(/\n/g, '\r')],
  ['padding removed', (p) => p.replace(/=+\n-----END/, '\n-----END')],
  ['padding bits set', (p) => p.replace(/([A-Za-z0-9+/])(=+)\n-----END/, (_, c: string, pad: string) => `${nonZeroPadding(c, pad.length)}${pad}\n-----END`)],
  ['= in the middle', (p) => p.replace(/\n([A-Za-z0-9+/]{4})/, '\n$1=')],
  ['base64url alphabet', (p) => p.replace(/\+/g, '-').replace(/\//g, '_')],
  ['dashes of BEGIN shortened', (p) => p.replace('-----BEGIN', '----BEGIN')],
];

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
function nonZeroPadding(c: string, pad: number): string {
  const value = B64.indexOf(c);
  return B64[value | (pad === 1 ? 0b01 : 0b0001)]!;
}

/** Bytes of the whole signed request, not signed again. */
function rawSignedMutation(rng: Random, der: Buffer): [string, Buffer] {
  const bytes = [...der];
  const choice = rng.int(4);
  const at = rng.int(bytes.length);
  if (choice === 0) bytes[at] = bytes[at]! ^ (1 << rng.int(8));
  else if (choice === 1) bytes.push(...[0x05, 0x00].slice(0, 1 + rng.int(2)));
  else if (choice === 2) {
    // the signature BIT STRING's unused-bits byte
    const index = bytes.lastIndexOf(0x03, bytes.length - 64);
    if (index >= 0) bytes[index + 2] = 1 + rng.int(7);
  } else bytes.length = at;
  return [`signed bytes: ${['flipped', 'trailing data', 'unused bits in the signature', 'truncated'][choice]}`, Buffer.from(bytes)];
}

/** `count` entries from `seed`: a sixth legitimate, the rest mutated. */
export function corpus(seed: number, count: number): CorpusEntry[] {
  const rng = new Random(seed);
  const keys = new Keys();
  const entries: CorpusEntry[] = [];
  const contentNames = Object.keys(contentMutations);
  let previousPem = '';
  while (entries.length < count) {
    const b = base(rng, keys);
    const request = fromSpec(b.spec, b.key);
    const kind = rng.int(12);
    let label: string;
    let pem: string | Buffer;
    if (kind <= 1) {
      label = 'legitimate';
      pem = toPem(sign(request));
    } else if (kind <= 4) {
      label = structuralMutation(rng, request);
      pem = toPem(sign(request));
    } else if (kind === 5) {
      label = rawInfoMutation(rng, request);
      pem = toPem(sign(request));
    } else if (kind === 6) {
      const [what, der] = rawSignedMutation(rng, sign(request));
      label = what;
      pem = toPem(der);
    } else if (kind <= 8) {
      const der = sign(request);
      const [what, mutate] = rng.pick(PEM_MUTATIONS);
      label = `PEM: ${what}`;
      pem = Buffer.from(mutate(toPem(der), der, previousPem || toPem(der)), 'latin1');
    } else {
      const name = rng.pick(contentNames);
      label = `${name}: ${contentMutations[name]!(rng, request, b)}`;
      pem = toPem(sign(request));
    }
    const text = Buffer.isBuffer(pem) ? pem.toString('latin1') : pem;
    previousPem = text;
    entries.push({ label: `${b.phase} ${b.node} (${b.key.asymmetricKeyType}): ${label}`, csr: csrOf(b, Buffer.from(text, 'latin1')), legitimate: label === 'legitimate' });
  }
  return entries;
}
