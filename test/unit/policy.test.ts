import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Csr, NodeInfo } from '../../src/cluster/objects.ts';
import { BOOTSTRAPPER, CLIENT_SIGNER, decide, MAX_CLIENT_APPROVALS_PER_NODE, SERVING_SIGNER, type PolicyContext } from '../../src/csr/policy.ts';
import { parseCertificateRequest } from '../../src/csr/x509.ts';
import { parseNodes } from '../../src/settings/settings.ts';
import { buildCsr, tamperSignature, type CsrSpec } from '../sim/csr-builder.ts';

const BOOTSTRAP_GROUPS = ['system:serviceaccounts', 'system:serviceaccounts:openshift-machine-config-operator', 'system:authenticated'];
const NODE_GROUPS = ['system:nodes', 'system:authenticated'];
const LEGACY_CLIENT = ['digital signature', 'key encipherment', 'client auth'];
const CLIENT = ['digital signature', 'client auth'];
const LEGACY_SERVING = ['digital signature', 'key encipherment', 'server auth'];
const SERVING = ['digital signature', 'server auth'];

// worker-0 and worker-1 declare addresses; worker-2 declares none (its Node's addresses count).
const expected = new Map(parseNodes('worker-0 10.0.0.10 2001:db8::10 worker-0.example.com\nworker-1 10.0.0.11\nworker-2\nworker-3').map((n) => [n.name, n]));
const node = (name: string, ...addresses: string[]): NodeInfo => ({
  name,
  ready: true,
  addresses: [{ type: 'Hostname', address: name }, ...addresses.map((address) => ({ type: 'InternalIP', address }))],
});
const nodes = new Map([
  ['master-0', node('master-0', '10.0.0.1')],
  ['worker-1', node('worker-1', '10.0.0.11')],
  ['worker-2', node('worker-2', '10.0.0.12', 'fd00::12')],
]);
const context = (overrides: Partial<PolicyContext> = {}): PolicyContext => ({ expected, nodes, clientApprovals: () => 0, ...overrides });

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

const cases: Array<{ name: string; csr: () => Csr; verdict: string; ctx?: Partial<PolicyContext> }> = [
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
  { name: 'serving, IPv4-mapped IPv6 of a declared address', csr: () => serving('worker-1', { ipAddresses: ['::ffff:10.0.0.11'] }), verdict: 'approve' },
  { name: 'serving, CN differs from requester', csr: () => serving('worker-0', { ipAddresses: ['10.0.0.10'] }, { commonName: 'system:node:worker-1' }), verdict: 'cn-username-mismatch' },
  { name: 'serving, another node IP', csr: () => serving('worker-2', { ipAddresses: ['10.0.0.12', '10.0.0.1'] }), verdict: 'san-of-other-node' },
  { name: 'serving, another listed machine IP', csr: () => serving('worker-2', { ipAddresses: ['10.0.0.10'] }), verdict: 'san-of-other-node' },
  { name: 'serving, another node name', csr: () => serving('worker-0', { dnsNames: ['master-0'] }), verdict: 'san-of-other-node' },
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
