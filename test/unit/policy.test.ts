import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Csr, NodeInfo } from '../../src/cluster/objects.ts';
import { addressIndexOf } from '../../src/identity/addresses.ts';
import { boundsOf } from '../../src/identity/networks.ts';
import { BOOTSTRAPPER, CLIENT_SIGNER, decide, MAX_CLIENT_APPROVALS_PER_NODE, SERVING_SIGNER, type PolicyView } from '../../src/identity/policy.ts';
import { parseCertificateRequest } from '../../src/identity/x509.ts';
import { parseNodes } from '../../src/settings/settings.ts';
import { buildCsr, tamperSignature, type CsrSpec } from '../sim/csr-builder.ts';
import { attributes, cons, fromSpec, oid, OIDS, sanNames, sign, spki, subject, tlv, toPem, type DerTree, type Request } from '../x509diff/requests.ts';

const BOOTSTRAP_GROUPS = ['system:serviceaccounts', 'system:serviceaccounts:openshift-machine-config-operator', 'system:authenticated'];
const NODE_GROUPS = ['system:nodes', 'system:authenticated'];
const LEGACY_CLIENT = ['digital signature', 'key encipherment', 'client auth'];
const CLIENT = ['digital signature', 'client auth'];
const LEGACY_SERVING = ['digital signature', 'key encipherment', 'server auth'];
const SERVING = ['digital signature', 'server auth'];

// worker-0, worker-1 and worker-5 declare addresses; worker-2, worker-4 and the FQDN-named
// worker-6 declare none (their Node's addresses count). worker-5's loopback cannot be declared
// through the inputs (an input error since issue 24): built by hand, to show the policy refuses
// it even so.
const expected = new Map(
  [
    ...parseNodes('worker-0 10.0.0.10 2001:db8::10 worker-0.example.com\nworker-1 10.0.0.11\nworker-2\nworker-3\nworker-4\nworker-6.ocp.example.com'),
    { name: 'worker-5', ips: ['127.0.0.1', '10.0.0.15'], dnsNames: [] },
  ].map((n) => [n.name, n]),
);
const node = (name: string, ...addresses: string[]): NodeInfo => ({
  name,
  ready: true,
  addresses: [{ type: 'Hostname', address: name }, ...addresses.map((address) => ({ type: 'InternalIP', address }))],
});
const nodes = new Map([
  ['master-0', node('master-0', '10.0.0.1')],
  ['worker-1', node('worker-1', '10.0.0.11')],
  ['worker-2', node('worker-2', '10.0.0.12', 'fd00::12')],
  // worker-4 wrote its own status (NodeRestriction lets it): the attack of issue 11.
  [
    'worker-4',
    {
      name: 'worker-4',
      ready: true,
      addresses: [
        { type: 'Hostname', address: 'worker-4' },
        { type: 'InternalIP', address: '10.0.0.14' },
        { type: 'ExternalIP', address: '2001:db8::14' },
        { type: 'InternalDNS', address: 'worker-4.cluster.local' },
        { type: 'ExternalDNS', address: '*.apps.example.com' },
        { type: 'InternalDNS', address: 'api.example.com' },
        { type: 'InternalDNS', address: 'kubernetes.default.svc' },
        { type: 'InternalIP', address: '127.0.0.1' },
        { type: 'InternalIP', address: '169.254.169.254' },
        { type: 'Hostname', address: '10.0.0.97' },
      ],
    },
  ],
  ['worker-6.ocp.example.com', node('worker-6.ocp.example.com', '10.0.0.16')],
]);
/** The fixture's Nodes plus more, for the cases where another Node reports someone else's address. */
const withNodes = (...more: NodeInfo[]) => new Map([...nodes, ...more.map((n) => [n.name, n] as const)]);
const withListed = (text: string) => new Map([...expected, ...parseNodes(text).map((n) => [n.name, n] as const)]);
// An unlisted Node (master-1) and a listed Node without declared addresses (worker-4) writing
// declared addresses of worker-0 and worker-1 into their own status.
const squatter = (name: string, ...addresses: Array<[string, string]>): NodeInfo =>
  ({ name, ready: true, addresses: [{ type: 'Hostname', address: name }, ...addresses.map(([type, address]) => ({ type, address }))] });
const SQUATTERS = [
  squatter('master-1', ['InternalIP', '10.0.0.10'], ['InternalIP', '2001:db8::10'], ['InternalDNS', 'worker-0.example.com'], ['InternalIP', '10.0.0.12']),
  squatter('worker-4', ['InternalIP', '10.0.0.14'], ['ExternalIP', '10.0.0.11']),
];
const context = (overrides: Partial<PolicyView> = {}): PolicyView => {
  const view = { expected, nodes, clientApprovals: () => 0, ...overrides };
  return { addresses: addressIndexOf(view.expected.values(), (view.nodes as ReadonlyMap<string, NodeInfo>).values()), ...view };
};

/** A cluster's networks as networks.config and infrastructures.config report them (boundsOf reads them). */
const BOUNDS = boundsOf(
  {
    network: { serviceNetworks: ['172.30.0.0/16'], clusterNetworks: ['10.128.0.0/14', 'fd01::/48'] },
    infrastructure: { machineNetworks: ['10.0.0.0/24'], vips: ['10.0.0.5', 'fd00::6'] },
    installConfig: { machineNetworks: ['fd00::/64'] },
  },
  [],
);
const BOUNDED: Partial<PolicyView> = { networks: BOUNDS, nodes: withNodes(node('worker-3', '10.0.0.13', 'fd00::13', '172.30.0.1', '10.0.0.5', 'fd00::6', '10.128.0.7', '192.168.5.3', '2001:db8:5::3')) };

let serial = 0;
function csr(signerName: string, username: string, groups: string[], usages: string[], spec: CsrSpec, request?: string): Csr {
  return {
    name: `csr-${serial++}`,
    uid: `uid-${serial}`,
    resourceVersion: '1',
    createdAt: Date.now(),
    signerName,
    username,
    groups,
    usages,
    request: request ?? Buffer.from(buildCsr(spec).pem).toString('base64'),
    state: 'pending',
    issued: false,
  };
}
const client = (cn: string, extra: Partial<CsrSpec> = {}, usages = LEGACY_CLIENT, username = BOOTSTRAPPER, groups = BOOTSTRAP_GROUPS) =>
  csr(CLIENT_SIGNER, username, groups, usages, { organizations: ['system:nodes'], commonName: `system:node:${cn}`, ...extra });
const serving = (name: string, sans: Partial<CsrSpec>, extra: Partial<CsrSpec> = {}, usages = LEGACY_SERVING, groups = NODE_GROUPS) =>
  csr(SERVING_SIGNER, `system:node:${name}`, groups, usages, { organizations: ['system:nodes'], commonName: `system:node:${name}`, ...sans, ...extra });

/** A real request changed at the DER level, then signed again with its own key. */
function reshaped(spec: CsrSpec, change: (request: Request) => void): string {
  const request = fromSpec(spec);
  change(request);
  return Buffer.from(toPem(sign(request))).toString('base64');
}
const WORKER_0: CsrSpec = { organizations: ['system:nodes'], commonName: 'system:node:worker-0', dnsNames: ['worker-0'], ipAddresses: ['10.0.0.10'] };
const servingReshaped = (change: (request: Request) => void) => ({ ...serving('worker-0', {}), request: reshaped(WORKER_0, change) });
const clientReshaped = (change: (request: Request) => void) =>
  ({ ...client('worker-0'), request: reshaped({ organizations: ['system:nodes'], commonName: 'system:node:worker-0' }, change) });
const addRdn = (type: string, value: DerTree) => (r: Request) => subject(r.info).children!.push(cons(0x31, cons(0x30, oid(type), value)));
const cnNode = (r: Request) => subject(r.info).children!.at(-1)!.children![0]!.children![1]!;
const sanExtension = (r: Request) => attributes(r.info).children![0]!.children![1]!.children![0]!.children![0]!;

const cases: Array<{ name: string; csr: () => Csr; verdict: string; ctx?: Partial<PolicyView> }> = [
  { name: 'client, legacy usages', csr: () => client('worker-0'), verdict: 'approve' },
  { name: 'client, Kubernetes 1.27 usages', csr: () => client('worker-0', {}, CLIENT), verdict: 'approve' },
  { name: 'client, RSA key', csr: () => client('worker-3', { keyType: 'rsa' }), verdict: 'approve' },
  { name: 'client from another requester', csr: () => client('worker-0', {}, LEGACY_CLIENT, 'system:serviceaccount:default:attacker', ['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated']), verdict: 'wrong-requester' },
  { name: 'client with extra group', csr: () => client('worker-0', {}, LEGACY_CLIENT, BOOTSTRAPPER, [...BOOTSTRAP_GROUPS, 'system:masters']), verdict: 'wrong-groups' },
  { name: 'client with cert sign usage', csr: () => client('worker-0', {}, [...LEGACY_CLIENT, 'cert sign']), verdict: 'bad-usages' },
  { name: 'client with server auth usage', csr: () => client('worker-0', {}, ['digital signature', 'server auth']), verdict: 'bad-usages' },
  { name: 'client, extra O', csr: () => client('worker-0', { organizations: ['system:nodes', 'system:masters'] }), verdict: 'wrong-organization' },
  { name: 'client, missing O', csr: () => client('worker-0', { organizations: [] }), verdict: 'wrong-organization' },
  { name: 'client, wrong O', csr: () => client('worker-0', { organizations: ['system:cluster-admins'] }), verdict: 'wrong-organization' },
  { name: 'client, CN not a node', csr: () => csr(CLIENT_SIGNER, BOOTSTRAPPER, BOOTSTRAP_GROUPS, LEGACY_CLIENT, { organizations: ['system:nodes'], commonName: 'admin' }), verdict: 'bad-common-name' },
  { name: 'client, Go layout (one RDN holding the O values)', csr: () => client('worker-0', { organizationsInOneRdn: true }), verdict: 'approve' },
  { name: 'client, Go layout with an extra O', csr: () => client('worker-0', { organizations: ['system:nodes', 'system:masters'], organizationsInOneRdn: true }), verdict: 'wrong-organization' },
  { name: 'client, unlisted machine', csr: () => client('intruder-0'), verdict: 'node-not-listed' },
  { name: 'client, Node already exists', csr: () => client('worker-1'), verdict: 'node-already-exists' },
  { name: 'client, with a DNS SAN', csr: () => client('worker-0', { dnsNames: ['worker-0'] }), verdict: 'client-has-sans' },
  { name: 'client, with an IP SAN', csr: () => client('worker-0', { ipAddresses: ['10.0.0.10'] }), verdict: 'client-has-sans' },
  { name: 'client, storm guard', csr: () => client('worker-0'), verdict: 'too-many-client-requests', ctx: { clientApprovals: () => MAX_CLIENT_APPROVALS_PER_NODE } },
  { name: 'client, forged signature', csr: () => { const c = client('worker-0'); return { ...c, request: Buffer.from(tamperSignature(Buffer.from(c.request, 'base64').toString())).toString('base64') }; }, verdict: 'bad-signature' },
  { name: 'client, garbage request', csr: () => ({ ...client('worker-0'), request: Buffer.from('not a csr').toString('base64') }), verdict: 'unparsable-request' },
  { name: 'client renewal by a node is not ours', csr: () => client('worker-1', {}, LEGACY_CLIENT, 'system:node:worker-1', NODE_GROUPS), verdict: 'ignore' },
  { name: 'other signer is not ours', csr: () => csr('kubernetes.io/kube-apiserver-client', 'system:admin', ['system:authenticated'], CLIENT, { organizations: ['system:cluster-admins'], commonName: 'attacker' }), verdict: 'ignore' },
  { name: 'multus client is not ours', csr: () => csr('kubernetes.io/kube-apiserver-client', 'system:node:worker-1', NODE_GROUPS, CLIENT, { organizations: ['system:multus'], commonName: 'system:multus:worker-1' }), verdict: 'ignore' },
  { name: 'serving, declared IP and DNS', csr: () => serving('worker-0', { ipAddresses: ['10.0.0.10', '2001:db8:0:0::10'], dnsNames: ['Worker-0.Example.com', 'worker-0'] }), verdict: 'approve' },
  { name: 'serving, 1.27 usages', csr: () => serving('worker-1', { ipAddresses: ['10.0.0.11'] }, {}, SERVING), verdict: 'approve' },
  { name: 'serving, undeclared node uses its Node addresses', csr: () => serving('worker-2', { ipAddresses: ['10.0.0.12', 'fd00:0::12'], dnsNames: ['worker-2'] }), verdict: 'approve' },
  { name: 'serving, IPv4-mapped IPv6 of a declared address', csr: () => serving('worker-1', { ipAddresses: ['::ffff:10.0.0.11'] }), verdict: 'san-ipv4-in-ipv6' },
  { name: 'serving, IPv4-compatible IPv6 of a declared address', csr: () => serving('worker-1', { ipAddresses: ['::10.0.0.11'] }), verdict: 'san-ipv4-in-ipv6' },
  // Never, in any mode: wildcards, names that are not host names, special addresses.
  { name: 'serving, wildcard the Node reports (undeclared)', csr: () => serving('worker-4', { dnsNames: ['worker-4', '*.apps.example.com'] }), verdict: 'san-wildcard' },
  { name: 'serving, wildcard under a declared name', csr: () => serving('worker-0', { dnsNames: ['*.worker-0.example.com'] }), verdict: 'san-wildcard' },
  { name: 'serving, wildcard label inside a name', csr: () => serving('worker-4', { dnsNames: ['worker-4.*'] }), verdict: 'san-wildcard' },
  { name: 'serving, trailing dot', csr: () => serving('worker-0', { dnsNames: ['worker-0.example.com.'] }), verdict: 'san-invalid-dns-name' },
  { name: 'serving, underscore', csr: () => serving('worker-4', { dnsNames: ['worker_4'] }), verdict: 'san-invalid-dns-name' },
  { name: 'serving, empty label', csr: () => serving('worker-4', { dnsNames: ['worker-4..cluster.local'] }), verdict: 'san-invalid-dns-name' },
  { name: 'serving, an IP address written as a DNS name', csr: () => serving('worker-0', { dnsNames: ['10.0.0.10'] }), verdict: 'san-invalid-dns-name' },
  { name: 'serving, empty DNS name', csr: () => serving('worker-4', { dnsNames: [''] }), verdict: 'san-invalid-dns-name' },
  { name: 'serving, label of 64 characters', csr: () => serving('worker-4', { dnsNames: [`worker-4.${'a'.repeat(64)}`] }), verdict: 'san-invalid-dns-name' },
  { name: 'serving, NUL inside a DNS name', csr: () => serving('worker-4', { dnsNames: ['worker-4\u0000.evil'] }), verdict: 'san-invalid-dns-name' },
  { name: 'serving, non-ASCII DNS name (Go refuses to parse it)', csr: () => serving('worker-4', { dnsNames: ['w\u00f6rker-4'] }), verdict: 'unparsable-request' },
  { name: 'serving, upper-case spelling of the node name', csr: () => serving('worker-4', { dnsNames: ['WORKER-4'], ipAddresses: ['10.0.0.14'] }), verdict: 'approve' },
  { name: 'serving, loopback the Node reports (undeclared)', csr: () => serving('worker-4', { ipAddresses: ['10.0.0.14', '127.0.0.1'] }), verdict: 'san-loopback' },
  { name: 'serving, loopback declared in nodes', csr: () => serving('worker-5', { ipAddresses: ['127.0.0.1'] }), verdict: 'san-loopback' },
  { name: 'serving, IPv6 loopback', csr: () => serving('worker-0', { ipAddresses: ['::1'] }), verdict: 'san-loopback' },
  { name: 'serving, 0.0.0.0', csr: () => serving('worker-4', { ipAddresses: ['0.0.0.0'] }), verdict: 'san-unspecified-address' },
  { name: 'serving, ::', csr: () => serving('worker-4', { ipAddresses: ['::'] }), verdict: 'san-unspecified-address' },
  { name: 'serving, link-local the Node reports', csr: () => serving('worker-4', { ipAddresses: ['169.254.169.254'] }), verdict: 'san-link-local' },
  { name: 'serving, IPv6 link-local', csr: () => serving('worker-4', { ipAddresses: ['fe80::14'] }), verdict: 'san-link-local' },
  { name: 'serving, multicast', csr: () => serving('worker-4', { ipAddresses: ['224.0.0.251'] }), verdict: 'san-multicast' },
  { name: 'serving, IPv6 multicast', csr: () => serving('worker-4', { ipAddresses: ['ff02::1'] }), verdict: 'san-multicast' },
  { name: 'serving, broadcast', csr: () => serving('worker-4', { ipAddresses: ['255.255.255.255'] }), verdict: 'san-broadcast' },
  { name: 'serving, IPv4-mapped loopback', csr: () => serving('worker-4', { ipAddresses: ['::ffff:127.0.0.1'] }), verdict: 'san-ipv4-in-ipv6' },
  // Undeclared addresses: only the node name, names under it, and its InternalIP/ExternalIP.
  { name: 'serving, undeclared: the honest request of the machine that wrote its status', csr: () => serving('worker-4', { dnsNames: ['worker-4', 'worker-4.cluster.local'], ipAddresses: ['10.0.0.14', '2001:db8::14'] }), verdict: 'approve' },
  { name: 'serving, undeclared: the API name the Node reports', csr: () => serving('worker-4', { dnsNames: ['worker-4', 'api.example.com'] }), verdict: 'san-not-under-node-name' },
  { name: 'serving, undeclared: kubernetes.default.svc the Node reports', csr: () => serving('worker-4', { dnsNames: ['kubernetes.default.svc'] }), verdict: 'san-not-under-node-name' },
  { name: 'serving, undeclared: a name that only starts like the node name', csr: () => serving('worker-4', { dnsNames: ['worker-4x.cluster.local'] }), verdict: 'san-not-under-node-name' },
  { name: 'serving, undeclared: a name under the node name it does not report', csr: () => serving('worker-4', { dnsNames: ['worker-4.example.com'] }), verdict: 'san-not-node-address' },
  { name: 'serving, undeclared: an IP the Node reports only as a Hostname', csr: () => serving('worker-4', { ipAddresses: ['10.0.0.97'] }), verdict: 'san-not-node-address' },
  { name: 'serving, undeclared FQDN node name', csr: () => serving('worker-6.ocp.example.com', { dnsNames: ['worker-6.ocp.example.com'], ipAddresses: ['10.0.0.16'] }), verdict: 'approve' },
  { name: 'serving, undeclared FQDN node: its short name is not under it', csr: () => serving('worker-6.ocp.example.com', { dnsNames: ['worker-6'] }), verdict: 'san-not-under-node-name' },
  // Subjects: exactly one CN and one O.
  { name: 'client, an OU in the subject', csr: () => clientReshaped(addRdn(OIDS.ou, tlv(0x0c, 'x'))), verdict: 'unexpected-subject-attribute' },
  { name: 'serving, a C in the subject', csr: () => servingReshaped(addRdn(OIDS.c, tlv(0x13, 'US'))), verdict: 'unexpected-subject-attribute' },
  { name: 'serving, a serialNumber in the subject', csr: () => servingReshaped(addRdn(OIDS.serialNumber, tlv(0x13, '1'))), verdict: 'unexpected-subject-attribute' },
  { name: 'client, an empty RDN', csr: () => clientReshaped((r) => subject(r.info).children!.push(cons(0x31))), verdict: 'unexpected-subject-attribute' },
  { name: 'client, CN as an IA5String', csr: () => clientReshaped((r) => Object.assign(cnNode(r), tlv(0x16, 'system:node:worker-0'))), verdict: 'unexpected-subject-attribute' },
  { name: 'client, a second CN', csr: () => clientReshaped(addRdn(OIDS.cn, tlv(0x0c, 'system:node:worker-0'))), verdict: 'bad-common-name' },
  { name: 'serving, CN and O as PrintableString (what Go writes)', csr: () => servingReshaped((r) => { Object.assign(cnNode(r), tlv(0x13, 'system:node:worker-0')); Object.assign(subject(r.info).children![0]!.children![0]!.children![1]!, tlv(0x13, 'system:nodes')); }), verdict: 'approve' },
  { name: 'serving, a PrintableString with a character outside its set', csr: () => servingReshaped((r) => Object.assign(cnNode(r), tlv(0x13, 'system:node:worker-0_'))), verdict: 'unparsable-request' },
  { name: 'serving, a UTF8String that is not UTF-8', csr: () => servingReshaped((r) => Object.assign(cnNode(r), tlv(0x0c, Buffer.from([0x73, 0xff])))), verdict: 'unparsable-request' },
  // Strict DER, as Go's encoding/asn1 reads it.
  { name: 'serving, critical SAN extension (0xFF)', csr: () => servingReshaped((r) => sanExtension(r).children!.splice(1, 0, tlv(0x01, Buffer.from([0xff])))), verdict: 'approve' },
  { name: 'serving, BOOLEAN 0x01', csr: () => servingReshaped((r) => sanExtension(r).children!.splice(1, 0, tlv(0x01, Buffer.from([0x01])))), verdict: 'unparsable-request' },
  { name: 'serving, non-minimal length', csr: () => servingReshaped((r) => (sanNames(r.info)!.lengthBytes = 1)), verdict: 'unparsable-request' },
  { name: 'serving, length with a leading zero byte', csr: () => servingReshaped((r) => (r.info.lengthBytes = 3)), verdict: 'unparsable-request' },
  { name: 'serving, indefinite length', csr: () => servingReshaped((r) => (subject(r.info).indefinite = true)), verdict: 'unparsable-request' },
  { name: 'serving, OID with a leading 0x80', csr: () => servingReshaped((r) => { const id = sanExtension(r).children![0]!; id.content = Buffer.concat([Buffer.from([0x80]), id.content!]); }), verdict: 'unparsable-request' },
  { name: 'serving, trailing element inside the SAN extension', csr: () => servingReshaped((r) => sanExtension(r).children!.push(tlv(0x05, ''))), verdict: 'unparsable-request' },
  { name: 'serving, trailing element inside the request info', csr: () => servingReshaped((r) => r.info.children!.push(tlv(0x05, ''))), verdict: 'unparsable-request' },
  { name: 'serving, trailing byte after the GeneralNames', csr: () => servingReshaped((r) => sanExtension(r).children![1]!.children!.push(tlv(0x05, ''))), verdict: 'unparsable-request' },
  { name: 'serving, the SAN extension twice', csr: () => servingReshaped((r) => { const ext = sanExtension(r); attributes(r.info).children![0]!.children![1]!.children![0]!.children!.push(ext); }), verdict: 'unparsable-request' },
  { name: 'serving, two values in the extension request (Go reads only the first)', csr: () => servingReshaped((r) => attributes(r.info).children![0]!.children![1]!.children!.push(cons(0x30))), verdict: 'unparsable-request' },
  { name: 'serving, high-tag-number form', csr: () => servingReshaped((r) => (sanNames(r.info)!.children![0]!.highTag = 2)), verdict: 'unparsable-request' },
  { name: 'serving, IP SAN of 5 bytes', csr: () => servingReshaped((r) => sanNames(r.info)!.children!.push(tlv(0x87, Buffer.from([10, 0, 0, 10, 0])))), verdict: 'unparsable-request' },
  { name: 'serving, version 2', csr: () => servingReshaped((r) => (r.info.children![0] = tlv(0x02, Buffer.from([1])))), verdict: 'unparsable-request' },
  { name: 'serving, compressed EC point (openssl reads it, Go does not)', csr: () => servingReshaped((r) => { const bits = spki(r.info).children![1]!; const point = bits.content!.subarray(1); bits.content = Buffer.concat([Buffer.from([0, 2 + (point.at(-1)! & 1)]), point.subarray(1, 33)]); }), verdict: 'unparsable-request' },
  { name: 'serving, ECDSA signature algorithm with NULL parameters', csr: () => servingReshaped((r) => (r.algorithm = cons(0x30, oid('1.2.840.10045.4.3.2'), tlv(0x05, '')))), verdict: 'bad-signature' },
  { name: 'serving, RSA signature algorithm without parameters', csr: () => ({ ...serving('worker-0', {}), request: reshaped({ ...WORKER_0, keyType: 'rsa' }, (r) => (r.algorithm = cons(0x30, oid('1.2.840.113549.1.1.11')))) }), verdict: 'approve' },
  { name: 'serving, RSA algorithm over an EC key', csr: () => servingReshaped((r) => (r.algorithm = cons(0x30, oid('1.2.840.113549.1.1.11'), tlv(0x05, '')))), verdict: 'bad-signature' },
  { name: 'serving, CN differs from requester', csr: () => serving('worker-0', { ipAddresses: ['10.0.0.10'] }, { commonName: 'system:node:worker-1' }), verdict: 'cn-username-mismatch' },
  { name: 'serving, another node IP', csr: () => serving('worker-2', { ipAddresses: ['10.0.0.12', '10.0.0.1'] }), verdict: 'san-of-other-node' },
  { name: 'serving, another listed machine IP', csr: () => serving('worker-2', { ipAddresses: ['10.0.0.10'] }), verdict: 'san-of-other-node' },
  { name: 'serving, another node name', csr: () => serving('worker-0', { dnsNames: ['master-0'] }), verdict: 'san-of-other-node' },
  // Declared addresses are judged against declarations only: what another Node reports about
  // itself never vetoes them; another listed machine's declaration or another Node's name does.
  { name: 'serving, declared IP another Node reports as its own', csr: () => serving('worker-0', { ipAddresses: ['10.0.0.10'] }), verdict: 'approve', ctx: { nodes: withNodes(...SQUATTERS) } },
  { name: 'serving, declared IPv6 (another spelling) another Node reports', csr: () => serving('worker-0', { ipAddresses: ['2001:db8:0::10'] }), verdict: 'approve', ctx: { nodes: withNodes(...SQUATTERS) } },
  { name: 'serving, declared DNS name another Node reports', csr: () => serving('worker-0', { dnsNames: ['Worker-0.example.com'], ipAddresses: ['10.0.0.10'] }), verdict: 'approve', ctx: { nodes: withNodes(...SQUATTERS) } },
  { name: 'serving, declared IP a listed machine without declarations reports', csr: () => serving('worker-1', { ipAddresses: ['10.0.0.11'] }), verdict: 'approve', ctx: { nodes: withNodes(...SQUATTERS) } },
  { name: 'serving, declared IP another listed machine also declares', csr: () => serving('worker-0', { ipAddresses: ['10.0.0.10'] }), verdict: 'san-of-other-node', ctx: { expected: withListed('worker-7 10.0.0.10') } },
  { name: 'serving, declared DNS name another listed machine also declares', csr: () => serving('worker-0', { dnsNames: ['worker-0.example.com'] }), verdict: 'san-of-other-node', ctx: { expected: withListed('worker-7 10.0.0.17 WORKER-0.example.com') } },
  { name: 'serving, declared name that is another listed machine', csr: () => serving('worker-0', { dnsNames: ['worker-2'] }), verdict: 'san-of-other-node', ctx: { expected: withListed('worker-0 10.0.0.10 worker-2') } },
  { name: 'serving, declared name that is another Node\'s name', csr: () => serving('worker-0', { dnsNames: ['master-0'] }), verdict: 'san-of-other-node', ctx: { expected: withListed('worker-0 10.0.0.10 master-0') } },
  { name: 'serving, an address another Node reports does not make it declared', csr: () => serving('worker-0', { ipAddresses: ['10.0.0.10', '10.0.0.12'] }), verdict: 'san-not-declared', ctx: { nodes: withNodes(...SQUATTERS) } },
  // Without declared addresses, the rules stay: no address another Node or listed machine holds.
  { name: 'serving, undeclared: its Node address that another Node also reports', csr: () => serving('worker-2', { ipAddresses: ['10.0.0.12'] }), verdict: 'san-of-other-node', ctx: { nodes: withNodes(...SQUATTERS) } },
  { name: 'serving, undeclared: its Node reports a listed machine\'s declared IP', csr: () => serving('worker-4', { ipAddresses: ['10.0.0.14', '10.0.0.11'] }), verdict: 'san-of-other-node', ctx: { nodes: withNodes(...SQUATTERS) } },
  { name: 'serving, undeclared: its Node address, held by nobody else', csr: () => serving('worker-4', { ipAddresses: ['10.0.0.14'] }), verdict: 'approve', ctx: { nodes: withNodes(...SQUATTERS) } },
  { name: 'serving, outside declared', csr: () => serving('worker-0', { ipAddresses: ['10.0.0.99'] }), verdict: 'san-not-declared' },
  { name: 'serving, outside Node addresses', csr: () => serving('worker-2', { ipAddresses: ['10.0.0.98'] }), verdict: 'san-not-node-address' },
  { name: 'serving, e-mail SAN', csr: () => serving('worker-0', { ipAddresses: ['10.0.0.10'], emailAddresses: ['root@example.com'] }), verdict: 'forbidden-san-type' },
  { name: 'serving, URI SAN', csr: () => serving('worker-0', { ipAddresses: ['10.0.0.10'], uris: ['spiffe://cluster/ns/x'] }), verdict: 'forbidden-san-type' },
  { name: 'serving, no SANs', csr: () => serving('worker-0', {}), verdict: 'no-sans' },
  { name: 'serving, cert sign usage', csr: () => serving('worker-0', { ipAddresses: ['10.0.0.10'] }, {}, [...LEGACY_SERVING, 'cert sign']), verdict: 'bad-usages' },
  { name: 'serving, client usage', csr: () => serving('worker-0', { ipAddresses: ['10.0.0.10'] }, {}, LEGACY_CLIENT), verdict: 'bad-usages' },
  { name: 'serving, missing system:nodes group', csr: () => serving('worker-0', { ipAddresses: ['10.0.0.10'] }, {}, LEGACY_SERVING, ['system:authenticated']), verdict: 'wrong-groups' },
  { name: 'serving, wrong O', csr: () => serving('worker-0', { ipAddresses: ['10.0.0.10'] }, { organizations: ['system:masters'] }), verdict: 'wrong-organization' },
  { name: 'serving, unlisted node', csr: () => serving('master-0', { ipAddresses: ['10.0.0.1'] }), verdict: 'node-not-listed' },
  { name: 'serving, not registered and nothing declared', csr: () => serving('worker-3', { ipAddresses: ['10.0.0.13'] }), verdict: 'node-not-registered' },
  { name: 'serving from a non-node requester', csr: () => ({ ...serving('worker-0', { ipAddresses: ['10.0.0.10'] }), username: BOOTSTRAPPER }), verdict: 'wrong-requester' },
  { name: 'approved request is not re-decided', csr: () => ({ ...client('worker-0'), state: 'approved' as const }), verdict: 'ignore' },
  // Issue 24: a machine listed without addresses only within the cluster's networks. worker-3's
  // Node writes the service IP, a VIP, a pod address and one outside the machine networks.
  ...[
    { name: 'its Node address in a machine network', ips: ['10.0.0.13', 'fd00::13'], verdict: 'approve' },
    { name: 'the service IP its Node reports', ips: ['10.0.0.13', '172.30.0.1'], verdict: 'san-service-network' },
    { name: 'the API VIP its Node reports', ips: ['10.0.0.5'], verdict: 'san-cluster-vip' },
    { name: 'the ingress VIP its Node reports (other spelling)', ips: ['fd00:0::6'], verdict: 'san-cluster-vip' },
    { name: 'a pod address its Node reports', ips: ['10.128.0.7'], verdict: 'san-cluster-network' },
    { name: 'an address outside the machine networks its Node reports', ips: ['192.168.5.3'], verdict: 'san-outside-machine-network' },
    { name: 'an IPv6 address while the machine networks are IPv4 and fd00::/64', ips: ['2001:db8:5::3'], verdict: 'san-outside-machine-network' },
    { name: 'outside the machine networks and not its Node address either: the bound first', ips: ['192.168.5.99'], verdict: 'san-outside-machine-network' },
  ].map((c) => ({ name: `serving, undeclared, bounded: ${c.name}`, csr: () => serving('worker-3', { ipAddresses: c.ips, dnsNames: ['worker-3'] }), verdict: c.verdict, ctx: BOUNDED })),
  { name: 'serving, undeclared, no machine network found: outside is allowed, the service network is not', csr: () => serving('worker-3', { ipAddresses: ['192.168.5.3'] }), verdict: 'approve', ctx: { ...BOUNDED, networks: { ...BOUNDS, machineNetworks: [] } } },
  { name: 'serving, undeclared, no machine network found: the service IP still refused', csr: () => serving('worker-3', { ipAddresses: ['172.30.0.1'] }), verdict: 'san-service-network', ctx: { ...BOUNDED, networks: { ...BOUNDS, machineNetworks: [] } } },
  { name: 'serving, declared addresses are not bounded (declared outside the machine networks)', csr: () => serving('worker-0', { ipAddresses: ['10.0.0.10', '2001:db8::10'] }), verdict: 'approve', ctx: BOUNDED },
  // spec.expirationSeconds against max-requested-duration.
  { name: 'client, asks for 2h with a cap of 1h', csr: () => ({ ...client('worker-0'), expirationSeconds: 7200 }), verdict: 'requested-duration-too-long', ctx: { maxExpirationSeconds: 3600 } },
  { name: 'client, asks for exactly the cap', csr: () => ({ ...client('worker-0'), expirationSeconds: 3600 }), verdict: 'approve', ctx: { maxExpirationSeconds: 3600 } },
  { name: 'client, asks for a duration with no cap', csr: () => ({ ...client('worker-0'), expirationSeconds: 31_536_000 }), verdict: 'approve' },
  { name: 'serving, asks for a year with a cap of 30 days', csr: () => ({ ...serving('worker-1', { ipAddresses: ['10.0.0.11'] }), expirationSeconds: 31_536_000 }), verdict: 'requested-duration-too-long', ctx: { maxExpirationSeconds: 2_592_000 } },
  { name: 'serving, asks for nothing with a cap', csr: () => serving('worker-1', { ipAddresses: ['10.0.0.11'] }), verdict: 'approve', ctx: { maxExpirationSeconds: 600 } },
];

for (const c of cases) {
  test(`policy: ${c.name} -> ${c.verdict}`, () => {
    const verdict = decide(c.csr(), context(c.ctx));
    assert.equal(verdict.kind === 'refuse' ? verdict.reason : verdict.kind, c.verdict);
  });
}

test('policy: a refusal names the node and says why', () => {
  const verdict = decide(serving('worker-2', { ipAddresses: ['10.0.0.1'] }), context());
  assert.equal(verdict.kind, 'refuse');
  assert.ok(verdict.kind === 'refuse' && verdict.node === 'worker-2' && verdict.detail.includes('master-0'));
});

test('x509: subject, SANs and signature are read from a real request', () => {
  const { pem } = buildCsr({ commonName: 'system:node:a', organizations: ['system:nodes'], dnsNames: ['a.example.com'], ipAddresses: ['10.1.2.3', '2001:db8::1'], emailAddresses: ['x@y.z'], uris: ['https://u'] });
  const parsed = parseCertificateRequest(Buffer.from(pem).toString('base64'));
  assert.deepEqual(parsed.commonNames, ['system:node:a']);
  assert.deepEqual(parsed.organizations, ['system:nodes']);
  assert.deepEqual(parsed.dnsNames, ['a.example.com']);
  assert.deepEqual(parsed.ipAddresses, ['10.1.2.3', '2001:db8:0:0:0:0:0:1']);
  assert.deepEqual(parsed.emailAddresses, ['x@y.z']);
  assert.deepEqual(parsed.uris, ['https://u']);
  assert.equal(parsed.signatureValid, true);
  assert.equal(parseCertificateRequest(Buffer.from(tamperSignature(pem)).toString('base64')).signatureValid, false);
});

test('x509: only one unambiguous PEM block is read (the one the signer would sign)', () => {
  const worker = buildCsr({ commonName: 'system:node:worker-0', organizations: ['system:nodes'] }).pem;
  const master = buildCsr({ commonName: 'system:node:master-0', organizations: ['system:nodes'] }).pem;
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  const refused = (text: string) => decide({ ...client('worker-0'), request: b64(text) }, context());
  const reason = (text: string) => {
    const v = refused(text);
    return v.kind === 'refuse' ? v.reason : v.kind;
  };
  assert.equal(reason(worker), 'approve');
  assert.equal(reason(`${master}${worker}`), 'unparsable-request', 'two blocks');
  assert.equal(reason(master.replace('-----\n', '-----\nProc-Type: 4,ENCRYPTED\n\n') + worker), 'unparsable-request', 'a header');
  assert.equal(reason(worker.replace(/\n([A-Za-z0-9+/]{10})/, '\n$1=')), 'unparsable-request', 'not strict base64');
  assert.equal(reason(`garbage\n${worker}`), 'unparsable-request', 'text before the block');
  const der = Buffer.from(worker.split('\n').filter((l) => !l.startsWith('-----')).join(''), 'base64');
  const trailing = Buffer.concat([der, Buffer.from([0x05, 0x00])]).toString('base64').replace(/(.{64})/g, '$1\n');
  assert.equal(reason(`-----BEGIN CERTIFICATE REQUEST-----\n${trailing}\n-----END CERTIFICATE REQUEST-----\n`), 'unparsable-request', 'trailing data');
});
