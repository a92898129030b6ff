import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import { buildCsr, tamperSignature } from '../sim/csr-builder.ts';

/** Runs `openssl req -noout -text -verify` on the PEM; returns stdout+stderr and the exit status. */
function openssl(pem: string): { text: string; ok: boolean } {
  const r = spawnSync('openssl', ['req', '-noout', '-text', '-verify', '-in', '-'], { input: pem, encoding: 'utf8' });
  return { text: `${r.stdout}\n${r.stderr}`, ok: r.status === 0 };
}

const verified = (text: string): boolean => /verify OK/.test(text) && !/verify failure/.test(text);

function sanLine(text: string): string {
  const m = /X509v3 Subject Alternative Name:\s*\n\s*(.*)/.exec(text);
  return m?.[1]?.trim() ?? '';
}

test('EC P-256 serving request: subject, SANs and signature', () => {
  const { pem, privateKey } = buildCsr({
    commonName: 'system:node:worker-0',
    organizations: ['system:nodes'],
    dnsNames: ['worker-0'],
    ipAddresses: ['10.0.0.21', '2001:db8::21'],
  });
  assert.equal(privateKey.asymmetricKeyType, 'ec');
  const { text, ok } = openssl(pem);
  assert.ok(ok, text);
  assert.ok(verified(text), text);
  assert.match(text, /Subject: O = system:nodes, CN = system:node:worker-0\n/);
  assert.match(text, /ecdsa-with-SHA256/);
  assert.equal(sanLine(text), 'DNS:worker-0, IP Address:10.0.0.21, IP Address:2001:DB8:0:0:0:0:0:21');
});

test('RSA 2048 client request without SANs has no extension', () => {
  const { pem, privateKey } = buildCsr({ commonName: 'system:node:worker-1', organizations: ['system:nodes'], keyType: 'rsa' });
  assert.equal(privateKey.asymmetricKeyType, 'rsa');
  const { text, ok } = openssl(pem);
  assert.ok(ok, text);
  assert.ok(verified(text), text);
  assert.match(text, /Public-Key: \(2048 bit\)/);
  assert.match(text, /sha256WithRSAEncryption/);
  assert.match(text, /Subject: O = system:nodes, CN = system:node:worker-1\n/);
  assert.doesNotMatch(text, /Subject Alternative Name/);
});

test('every SAN kind, several organizations, each O its own RDN before CN', () => {
  const { pem } = buildCsr({
    commonName: 'attacker',
    organizations: ['system:nodes', 'system:cluster-admins'],
    dnsNames: ['a.example', 'b'],
    ipAddresses: ['10.1.2.3', '2001:db8:0:0:1::', '::ffff:10.9.8.7'],
    emailAddresses: ['x@example.com'],
    uris: ['spiffe://cluster.local/ns/default/sa/x'],
  });
  const { text, ok } = openssl(pem);
  assert.ok(ok && verified(text), text);
  assert.match(text, /Subject: O = system:nodes, O = system:cluster-admins, CN = attacker\n/);
  assert.equal(
    sanLine(text),
    'DNS:a.example, DNS:b, email:x@example.com, IP Address:10.1.2.3, IP Address:2001:DB8:0:0:1:0:0:0, ' +
      'IP Address:0:0:0:0:0:FFFF:A09:807, URI:spiffe://cluster.local/ns/default/sa/x',
  );
});

test('organizations in one multi-valued RDN, as Go writes them', () => {
  const { pem } = buildCsr({ commonName: 'system:node:w', organizations: ['system:nodes', 'system:masters'], organizationsInOneRdn: true });
  const { text } = openssl(pem);
  assert.ok(verified(text), text);
  // DER sorts the SET: the shorter encoding first
  assert.match(text, /Subject: O = system:nodes \+ O = system:masters, CN = system:node:w\n/);
});

test('a given key is used as is', () => {
  const key = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
  const a = buildCsr({ commonName: 'x' }, key);
  const b = buildCsr({ commonName: 'y' }, key);
  assert.equal(a.privateKey, key);
  const pub = (pem: string) => spawnSync('openssl', ['req', '-noout', '-pubkey', '-in', '-'], { input: pem, encoding: 'utf8' }).stdout;
  assert.equal(pub(a.pem), pub(b.pem));
  assert.equal(pub(a.pem), crypto.createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString());
});

test('tamperSignature keeps the request parseable but breaks the signature', () => {
  for (const keyType of ['ec', 'rsa'] as const) {
    const { pem } = buildCsr({ commonName: 'system:node:w', organizations: ['system:nodes'], keyType });
    const bad = tamperSignature(pem);
    assert.notEqual(bad, pem);
    // openssl 3.0 prints the failure but may still exit 0 when -text is given
    const { text } = openssl(bad);
    assert.ok(!verified(text), text);
    assert.match(text, /Subject: O = system:nodes, CN = system:node:w/);
    assert.match(text, /verify failure/);
  }
});

test('rejects something that is not an IP address', () => {
  assert.throws(() => buildCsr({ ipAddresses: ['worker-0'] }), /not an IP address/);
});
