// Issue 11 on the real API server: a node listed without addresses writes its own status (the
// Node authorizer and NodeRestriction let it) with names and addresses that are not its own,
// then asks for serving certificates for them. They stay Pending with their reasons; its honest
// request is approved. A Node's status never vetoes a machine whose addresses were declared.
// And a second client certificate for one name is reported.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { objectPath, PATHS } from '../../src/cluster/paths.ts';
import { call, nodeIdentity, SIGNER, USAGES } from '../sim/common.ts';
import { csrTestBed, runAction } from './harness.ts';

const { bed, install, readCsr, conditionTypes, nodeInputs } = csrTestBed();

test('a node that writes other names into its own status gets no certificate for them; its honest request is approved', { timeout: 240_000 }, async () => {
  const node = 'h-worker-0';
  const sim = await install({ workers: [{ name: node, addresses: ['10.3.0.10'] }] });
  // The machine joins, listed without addresses: its Node's addresses are what it says about itself.
  const joined = await runAction(bed.cp, nodeInputs([node]));
  assert.equal(joined.outputs.result, 'success', joined.stdout);

  // Now, as the node itself, it claims the apps wildcard, the API's name, the in-cluster API
  // name and loopback.
  const claimed = [
    { type: 'InternalIP', address: '10.3.0.10' },
    { type: 'Hostname', address: node },
    { type: 'ExternalDNS', address: '*.apps.ocp.example.com' },
    { type: 'InternalDNS', address: 'api.ocp.example.com' },
    { type: 'InternalDNS', address: 'kubernetes.default.svc' },
    { type: 'InternalIP', address: '127.0.0.1' },
  ];
  await call(sim.ctx, 'PATCH', `${objectPath(PATHS.nodes, node)}/status`, {
    body: { status: { addresses: claimed } },
    contentType: 'application/merge-patch+json',
    impersonate: nodeIdentity(node),
  });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const status = await bed.cp.admin.request<any>('GET', objectPath(PATHS.nodes, node));
  assert.deepEqual(
    status.status.addresses.map((a: { address: string }) => a.address).sort(),
    claimed.map((a) => a.address).sort(),
    'the API server took the node at its word',
  );

  const file = (label: string, dnsNames: string[], ipAddresses: string[]) =>
    sim.adversary.file(label, {
      identity: nodeIdentity(node),
      signerName: SIGNER.kubeletServing,
      usages: USAGES.serving,
      spec: { commonName: `system:node:${node}`, organizations: ['system:nodes'], dnsNames, ipAddresses },
    });
  const forged: Record<string, string> = {
    [await file('wildcard', [node, '*.apps.ocp.example.com'], ['10.3.0.10'])]: 'san-wildcard',
    [await file('api name', [node, 'api.ocp.example.com'], ['10.3.0.10'])]: 'san-not-under-node-name',
    [await file('in-cluster api name', ['kubernetes.default.svc'], [])]: 'san-not-under-node-name',
    [await file('loopback', [node], ['10.3.0.10', '127.0.0.1'])]: 'san-loopback',
  };
  const honest = await file('honest', [node], ['10.3.0.10']);

  // A scheduled renewal run: the node is Ready, so the run decides what is pending and ends.
  const run = await runAction(bed.cp, nodeInputs([node]));
  assert.equal(run.outputs.result, 'success', run.stdout);
  const approved = run.json('approved-csrs');
  const refused = run.json('refused-csrs');
  assert.deepEqual(approved, [honest], 'only the honest request is approved');
  assert.ok((await readCsr(honest)).status?.certificate, 'and the signer issued it');
  for (const [name, reason] of Object.entries(forged)) {
    assert.deepEqual(
      refused.find((r) => r.name === name),
      { name, signer: SIGNER.kubeletServing, requestor: `system:node:${node}`, node, reason },
      `${name} reported with ${reason}`,
    );
    assert.deepEqual(await conditionTypes(name), [], `${name} stays Pending, never Denied`);
    assert.match(run.stdout, new RegExp(`refused serving CSR ${name} for ${node}: ${reason} \\(`));
  }
  assert.match(run.summaryText, /san-wildcard/);
  assert.match(run.summaryText, /san-loopback/);
});

test('a second client certificate for one node name is a warning, and counted in the nodes output', { timeout: 180_000 }, async () => {
  // A kubelet that waited through a timeout has an older pending request too: both get issued.
  await install({ workers: [{ name: 'h-worker-1', addresses: ['10.3.1.10'], preexistingClientCsrs: 2 }, { name: 'h-worker-2', addresses: ['10.3.1.11'] }] });
  const run = await runAction(bed.cp, nodeInputs(['h-worker-1 10.3.1.10 h-worker-1', 'h-worker-2']));
  assert.equal(run.outputs.result, 'success', run.stdout);
  const nodes = run.json('nodes');
  assert.deepEqual(
    nodes.map((n) => [n.name, n.clientCertificates]),
    [
      ['h-worker-1', 2],
      ['h-worker-2', 1],
    ],
  );
  assert.match(run.stdout, /::warning::.*2 client certificates were issued for node h-worker-1 in this run/);
  assert.doesNotMatch(run.stdout, /client certificates were issued for node h-worker-2/);
  assert.match(run.summaryText, /\[!WARNING\]\n2 client certificates were issued for node h-worker-1/);
});

test('a Node that writes a declared address into its own status does not veto the declared machine; undeclared rules stay', { timeout: 240_000 }, async () => {
  // h-worker-3 joins listed without addresses, then, as itself, reports h-worker-4's declared
  // IP and DNS name as its own.
  const squatter = 'h-worker-3';
  const declared = 'h-worker-4';
  const first = await install({ workers: [{ name: squatter, addresses: ['10.3.2.13'] }] });
  const joined = await runAction(bed.cp, nodeInputs([squatter]));
  assert.equal(joined.outputs.result, 'success', joined.stdout);
  await call(first.ctx, 'PATCH', `${objectPath(PATHS.nodes, squatter)}/status`, {
    body: {
      status: {
        addresses: [
          { type: 'InternalIP', address: '10.3.2.13' },
          { type: 'InternalIP', address: '10.3.2.20' },
          { type: 'InternalDNS', address: `${declared}.ocp.example.com` },
          { type: 'Hostname', address: squatter },
        ],
      },
    },
    contentType: 'application/merge-patch+json',
    impersonate: nodeIdentity(squatter),
  });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const status = await bed.cp.admin.request<any>('GET', objectPath(PATHS.nodes, squatter));
  assert.ok(
    status.status.addresses.some((a: { address: string }) => a.address === '10.3.2.20'),
    'the API server took the squatter at its word',
  );
  // The squatter, listed without addresses, asks for the address it wrote: today's rules refuse it.
  const grab = await first.adversary.file('grab', {
    identity: nodeIdentity(squatter),
    signerName: SIGNER.kubeletServing,
    usages: USAGES.serving,
    spec: { commonName: `system:node:${squatter}`, organizations: ['system:nodes'], dnsNames: [squatter], ipAddresses: ['10.3.2.13', '10.3.2.20'] },
  });

  // The declared machine boots after that and asks for its declared IP (its kubelet puts its
  // node name and IP in the request).
  await install({ workers: [{ name: declared, addresses: ['10.3.2.20'] }] });
  const run = await runAction(bed.cp, nodeInputs([squatter, `${declared} 10.3.2.20 ${declared}.ocp.example.com`]));
  assert.equal(run.outputs.result, 'success', run.stdout);
  const entry = run.json('nodes').find((n) => n.name === declared);
  assert.deepEqual([entry?.ready, entry?.servingIssued], [true, true], 'the declared machine is Ready with its serving certificate');
  const refused = run.json('refused-csrs');
  assert.deepEqual(
    refused.filter((r) => r.node === declared),
    [],
    'nothing of the declared machine refused',
  );
  assert.deepEqual(
    refused.find((r) => r.name === grab),
    { name: grab, signer: SIGNER.kubeletServing, requestor: `system:node:${squatter}`, node: squatter, reason: 'san-of-other-node' },
  );
  assert.deepEqual(await conditionTypes(grab), [], 'the grab stays Pending, never Denied');
});
