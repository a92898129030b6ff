// The shape a real kubelet's CSR is compared by (test/env/csr-shape.ts; the comparison itself runs
// against real kubelets in test/integration/real-kubelets.test.ts), over requests of the
// simulator's builder.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { csrShape, requestShape } from '../env/csr-shape.ts';
import { buildCsr, type CsrSpec } from '../sim/csr-builder.ts';

const request = (spec: CsrSpec) => Buffer.from(buildCsr(spec).pem).toString('base64');
const node = { commonName: 'system:node:worker-0', organizations: ['system:nodes'] };

test('request shapes: subject string kinds, key, extensions, SAN kinds and order', () => {
  const table: { name: string; spec: CsrSpec; expect: Partial<ReturnType<typeof requestShape>> }[] = [
    {
      name: 'a client request as a kubelet files it',
      spec: node,
      expect: { version: 0, subject: [['O:PrintableString'], ['CN:PrintableString']], key: 'ec:1.2.840.10045.3.1.7', signatureAlgorithm: '1.2.840.10045.4.3.2', attributes: [], extensions: [], sanKinds: [] },
    },
    {
      name: 'a serving request, DNS then IPs, each sorted (IPs by their text)',
      spec: { ...node, dnsNames: ['worker-0'], ipAddresses: ['10.0.0.112', '10.0.0.12', '2001:db8::1'] },
      expect: { attributes: ['extensionRequest'], extensions: [{ id: 'subjectAltName', critical: false }], sanKinds: ['dns', 'ip', 'ip', 'ip'], dnsSorted: true, ipsSorted: true },
    },
    { name: 'IPs out of the kubelet\'s order', spec: { ...node, ipAddresses: ['10.0.0.12', '10.0.0.112'] }, expect: { ipsSorted: false } },
    { name: 'DNS names out of order', spec: { ...node, dnsNames: ['b', 'a'] }, expect: { dnsSorted: false, sanKinds: ['dns', 'dns'] } },
    { name: 'an RSA key', spec: { ...node, keyType: 'rsa' }, expect: { key: 'rsa:2048', signatureAlgorithm: '1.2.840.113549.1.1.11' } },
    // Go writes a PrintableString only when every character is in that set, '*' and '&' excluded
    { name: 'a CN Go would write as a UTF8String', spec: { ...node, commonName: 'system:node:a*b' }, expect: { subject: [['O:PrintableString'], ['CN:UTF8String']] } },
    { name: 'two organizations in one RDN', spec: { ...node, organizations: ['system:nodes', 'x'], organizationsInOneRdn: true }, expect: { subject: [['O:PrintableString', 'O:PrintableString'], ['CN:PrintableString']] } },
  ];
  for (const row of table) {
    const shape = requestShape(request(row.spec));
    for (const [field, value] of Object.entries(row.expect)) assert.deepEqual(shape[field as keyof typeof shape], value, `${row.name}: ${field}`);
  }
});

test('CSR shapes: names, requester, groups and extra keys without the values that differ per machine', () => {
  const bootstrapper = 'system:serviceaccount:openshift-machine-config-operator:node-bootstrapper';
  const spec = { request: request(node), signerName: 'kubernetes.io/kube-apiserver-client-kubelet', usages: ['digital signature', 'client auth'] };
  const a = csrShape({ metadata: { name: 'csr-abc12' }, spec: { ...spec, username: bootstrapper, groups: ['b', 'a'] } }, bootstrapper);
  const b = csrShape({ metadata: { name: 'csr-zz9x0' }, spec: { ...spec, request: request(node), username: bootstrapper, groups: ['a', 'b'] } }, bootstrapper);
  assert.deepEqual(a, b, 'two machines, one shape');
  assert.equal(a.name, 'csr-<random>');
  assert.equal(a.requester, 'bootstrapper');
  const digest = csrShape({ metadata: { name: `node-csr-${'A'.repeat(43)}` }, spec: { ...spec, username: 'system:node:worker-0', extra: { 'authentication.kubernetes.io/credential-id': ['X509SHA256=00'] } } }, bootstrapper);
  assert.equal(digest.name, 'node-csr-<digest>');
  assert.equal(digest.requester, 'node-self');
  assert.deepEqual(digest.extra, ['authentication.kubernetes.io/credential-id']);
  assert.equal(digest.expirationSeconds, false);
  assert.notDeepEqual(csrShape({ metadata: { name: 'x' }, spec: { ...spec, username: 'someone', expirationSeconds: 600 } }, bootstrapper), a);
});
