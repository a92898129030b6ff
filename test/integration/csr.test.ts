// Verified two-phase CSR approval against the real API server, the action under its
// least-privilege identity (deploy/rbac.yaml) and the simulated install. Tests share one
// control plane and isolate themselves by node names.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { objectPath, PATHS } from '../../src/cluster/paths.ts';
import { auditLog } from '../env/audit.ts';
import { ACTION_USER } from '../env/controlplane.ts';
import { until } from '../env/until.ts';
import { csrObject, k8sTime, nodeIdentity, SIGNER, USAGES } from '../sim/common.ts';
import { buildCsr } from '../sim/csr-builder.ts';
import { csrTestBed, runAction, startAction, whenLogged, type RunningAction } from './harness.ts';

// The audit log tells how the action read the CSRs (pages of a list).
const audit = auditLog();
after(() => audit.remove());
const { bed, install, readCsr, conditionTypes, nodeInputs } = csrTestBed({ apiServerArgs: audit.apiServerArgs });

test('two workers join, each approved in two phases, and go Ready; a late machine too', { timeout: 180_000 }, async () => {
  const running: { action?: RunningAction } = {};
  const sim = await install({
    workers: [
      { name: 'a-worker-0', addresses: ['10.1.0.10'] },
      // an RSA kubelet: the legacy usage sets; the others are ECDSA with two usages (1.27+)
      { name: 'a-worker-1', addresses: ['10.1.0.11', '2001:db8::11'], keyType: 'rsa' },
      // late for the action: it boots once the action has made another machine Ready (4 s on a
      // clock came before the action had started, on a busy machine)
      { name: 'a-worker-late', addresses: ['10.1.0.12'], bootAfter: whenLogged(() => running.action, /node a-worker-[01] is Ready/) },
    ],
  });
  // a-worker-1 declares its addresses; the others are checked against their Node's addresses.
  running.action = startAction(bed.cp, nodeInputs(['a-worker-0', 'a-worker-1 10.1.0.11 2001:db8:0::11 a-worker-1', 'a-worker-late']));
  const run = await running.action.done;
  assert.equal(run.exitCode, 0, run.stdout);
  assert.equal(run.outputs.result, 'success');
  assert.equal(run.outputs['nodes-ready'], 'true');
  const nodes = run.json('nodes');
  assert.deepEqual(nodes.map((n) => [n.name, n.ready, n.clientApproved, n.servingIssued]), [
    ['a-worker-0', true, true, true],
    ['a-worker-1', true, true, true],
    ['a-worker-late', true, true, true],
  ]);
  const approved = run.json('approved-csrs');
  for (const kubelet of sim.kubelets) {
    assert.ok(kubelet.clientCsrs.some((c) => approved.includes(c)), `${kubelet.name} client CSR approved`);
    assert.ok(kubelet.servingCsrs.some((c) => approved.includes(c)), `${kubelet.name} serving CSR approved`);
    for (const name of [...kubelet.clientCsrs, ...kubelet.servingCsrs]) {
      assert.ok(approved.includes(name));
      assert.ok((await readCsr(name)).status.certificate, `${name} issued by the signer`);
    }
  }
  assert.match(run.stdout, /approved client CSR csr-\S+ for a-worker-0/);
  assert.match(run.stdout, /approved serving CSR csr-\S+ for a-worker-late/);
  assert.match(run.stdout, /node a-worker-late is Ready/);
  assert.doesNotMatch(run.stdout, /BEGIN CERTIFICATE|PRIVATE KEY/);
  assert.match(run.summaryText, /a-worker-late/);
  // The kubelets joined as system:node:<name> with only the Node authorizer: no binding names them.
  const bindings = await bed.cp.admin.request('GET', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings');
  const nodeSubjects = bindings.items.flatMap((b: { subjects?: { name: string }[] }) => b.subjects ?? []).filter((s: { name: string }) => /^system:node(s|:)/.test(s.name));
  assert.deepEqual(nodeSubjects, []);
});

test('a node with three pending client CSRs gets them all approved, newest first', { timeout: 180_000 }, async () => {
  const sim = await install({ workers: [{ name: 'b-worker-0', addresses: ['10.1.1.10'], preexistingClientCsrs: 3 }] });
  const kubelet = sim.kubelet('b-worker-0');
  assert.equal(kubelet.clientCsrs.length, 3);
  const run = await runAction(bed.cp, nodeInputs(['b-worker-0']));
  assert.equal(run.outputs.result, 'success', run.stdout);
  const approved = run.json('approved-csrs');
  const clientOrder = approved.filter((name) => kubelet.clientCsrs.includes(name));
  assert.deepEqual(clientOrder, [...kubelet.clientCsrs].reverse(), 'newest first');
  for (const name of kubelet.clientCsrs) assert.deepEqual(await conditionTypes(name), ['Approved']);
});

test('the kubelet re-requests until approved: every request of the listed machine is approved', { timeout: 180_000 }, async () => {
  const sim = await install({ workers: [{ name: 'c-worker-0', addresses: ['10.1.2.10'] }], reRequestAfterMs: 1500 });
  const kubelet = sim.kubelet('c-worker-0');
  await until(() => kubelet.clientCsrs.length >= 3, { message: 'c-worker-0 filed 3 client CSRs', timeoutMs: 15_000 });
  const run = await runAction(bed.cp, nodeInputs(['c-worker-0']));
  assert.equal(run.outputs.result, 'success', run.stdout);
  await sim.whenReady(['c-worker-0']);
  const approved = run.json('approved-csrs');
  assert.ok(kubelet.clientCsrs.filter((c) => approved.includes(c)).length >= 3);
});

test('a listed machine that never boots gives result timeout, naming it and what it lacks', { timeout: 180_000 }, async () => {
  await install({ workers: [{ name: 'd-worker-0', addresses: ['10.1.3.10'] }, { name: 'd-ghost', addresses: ['10.1.3.11'], neverBoots: true }] });
  // An event about the machine, as a machine controller records one (in default, as for any Node).
  const lastSeen = k8sTime();
  const ghostEvent = { type: 'Warning', reason: 'BootFailed', message: 'd-ghost did not fetch its Ignition config', count: 2 };
  await bed.cp.admin.request('POST', PATHS.events('default'), {
    body: { apiVersion: 'v1', kind: 'Event', metadata: { name: 'd-ghost.boot-failed' }, involvedObject: { kind: 'Node', name: 'd-ghost' }, source: { component: 'ofi-test' }, firstTimestamp: lastSeen, lastTimestamp: lastSeen, ...ghostEvent },
  });
  const run = await runAction(bed.cp, nodeInputs(['d-worker-0', 'd-ghost'], { 'nodes-timeout': '12s' }));
  assert.equal(run.exitCode, 1);
  assert.equal(run.outputs.result, 'timeout');
  assert.equal(run.outputs['nodes-ready'], 'false');
  assert.match(run.stdout, /::error::Nodes not Ready.*d-ghost \(no client CSR seen/);
  assert.doesNotMatch(run.stdout, /::error::.*d-worker-0 \(/);
  const nodes = run.json('nodes');
  assert.deepEqual(nodes.find((n) => n.name === 'd-worker-0'), { name: 'd-worker-0', ready: true, clientApproved: true, servingIssued: true, clientCertificates: 1 });
  assert.deepEqual(nodes.find((n) => n.name === 'd-ghost'), { name: 'd-ghost', ready: false, clientApproved: false, servingIssued: false, clientCertificates: 0 });
  assert.match(run.summaryText, /timeout/);
  const notReady = JSON.parse(run.diagnostics['nodes-not-ready.json']!);
  assert.deepEqual(notReady.map((n: { node: string }) => n.node), ['d-ghost']);
  assert.match(notReady[0].lacks, /no client CSR seen/);
  assert.deepEqual(notReady[0].events, [{ ...ghostEvent, lastSeen }], 'the Node\'s events, read under the least-privilege role');
});

test('forged requests stay Pending, are reported with their reason, and never denied', { timeout: 180_000 }, async () => {
  const sim = await install({ workers: [{ name: 'e-worker-0', addresses: ['10.1.4.10'] }, { name: 'e-worker-1', addresses: ['10.1.4.11'] }] });
  const adversary = sim.adversary;
  // e-worker-0 will be registered by the time the action runs (the action approves it first).
  const action = startAction(bed.cp, nodeInputs(['e-worker-0 10.1.4.10 e-worker-0', 'e-worker-1', 'e-pending'], { 'nodes-timeout': '25s' }));
  await sim.whenReady(['e-worker-0', 'e-worker-1']);
  const expected: Record<string, string> = {
    [await adversary.clientFromWrongRequester('e-pending')]: 'wrong-requester',
    [await adversary.clientForExistingNode('e-worker-0')]: 'node-already-exists',
    [await adversary.clientForUnlistedMachine('e-rogue')]: 'node-not-listed',
    [await adversary.clientWrongOrg('e-pending')]: 'wrong-organization',
    [await adversary.clientExtraOrg('e-pending')]: 'wrong-organization',
    [await adversary.clientMissingOrg('e-pending')]: 'wrong-organization',
    [await adversary.clientWithSan('e-pending')]: 'client-has-sans',
    [await adversary.clientExtraUsage('e-pending')]: 'bad-usages',
    // the family NodeRestriction lets through: the last CN (the one Go reads) is the requester's
    [await adversary.servingTwoCommonNames('e-worker-1', 'e-worker-0', ['10.1.4.11'])]: 'cn-username-mismatch',
    [await adversary.servingWithOtherNodesIp('e-worker-1', '10.1.4.10', ['10.1.4.11'])]: 'san-of-other-node',
    [await adversary.servingOutsideDeclared('e-worker-0', '10.99.99.99', ['10.1.4.10'])]: 'san-not-declared',
    [await adversary.servingWithEmailSan('e-worker-1')]: 'forbidden-san-type',
    [await adversary.servingWithUriSan('e-worker-1')]: 'forbidden-san-type',
  };
  // Since 1.31 NodeRestriction refuses a kubelet CSR whose CN is another node's at creation.
  const cnMismatch = adversary.servingCnMismatch('e-worker-1', 'e-worker-0', ['10.1.4.11']);
  if (bed.cp.leg === 'current') await assert.rejects(cnMismatch, (e: Error & { status?: number }) => e.status === 403 && /can only create|system:node:e-worker-1/i.test(e.message));
  else expected[await cnMismatch] = 'cn-username-mismatch';
  const clusterAdmin = await adversary.clusterAdminClientCert();
  const run = await action.done;
  // e-pending never boots: the run ends in timeout, but every forgery has been seen by then.
  assert.equal(run.outputs.result, 'timeout', run.stdout);
  const refused = run.json('refused-csrs');
  const approved = run.json('approved-csrs');
  for (const [name, reason] of Object.entries(expected)) {
    const entry = refused.find((r) => r.name === name);
    assert.ok(entry, `${name} (${reason}) reported as refused`);
    assert.equal(entry.reason, reason, `${name}`);
    assert.ok(!approved.includes(name));
    assert.deepEqual(await conditionTypes(name), [], `${name} stays Pending, never Denied`);
    assert.equal(run.stdout.match(new RegExp(`refused \\w+ CSR ${name}\\b`, 'g'))?.length, 1, `${name} logged once`);
  }
  assert.ok(!refused.some((r) => r.name === clusterAdmin), 'another signer is ignored, not refused');
  assert.deepEqual(await conditionTypes(clusterAdmin), [], 'cluster-admin client certificate never approved');
  assert.match(run.summaryText, /wrong-requester/);
});

test('dry-run approves nothing and reports the same set a real run approves', { timeout: 180_000 }, async () => {
  const sim = await install({ workers: [{ name: 'f-worker-0', addresses: ['10.1.5.10'], preexistingClientCsrs: 2 }, { name: 'f-worker-1', addresses: ['10.1.5.11'] }] });
  await sim.adversary.clientForUnlistedMachine('f-rogue');
  const dry = await runAction(bed.cp, nodeInputs(['f-worker-0', 'f-worker-1'], { 'dry-run': 'true' }));
  assert.equal(dry.outputs.result, 'success', dry.stdout);
  const wouldApprove = dry.json('approved-csrs');
  assert.equal(wouldApprove.length, 3);
  for (const name of wouldApprove) assert.deepEqual(await conditionTypes(name), [], 'dry-run wrote nothing');
  assert.match(dry.stdout, /would approve client CSR/);
  const real = startAction(bed.cp, nodeInputs(['f-worker-0', 'f-worker-1']));
  const run = await real.done;
  assert.equal(run.outputs.result, 'success');
  const approvedClients = run.json('approved-csrs').filter((n) => sim.kubelets.some((k) => k.clientCsrs.includes(n)));
  assert.deepEqual([...approvedClients].sort(), [...wouldApprove].sort());
});

test('the action identity cannot approve for another signer (least privilege holds)', { timeout: 180_000 }, async () => {
  const sim = await install({ workers: [] });
  const name = await sim.adversary.clusterAdminClientCert();
  const response = await bed.cp.action.requestRaw('PUT', `${objectPath(PATHS.csrs, name)}/approval`, {
    body: { ...(await readCsr(name)), status: { conditions: [{ type: 'Approved', status: 'True', reason: 'x', message: 'x' }] } },
  });
  assert.equal(response.status, 403);
});

test('a scheduled re-run on a finished cluster approves serving renewals, refusing one that names another node\'s address', { timeout: 120_000 }, async () => {
  const sim = await install({ workers: [{ name: 'g-worker-0', addresses: ['10.1.6.10'] }, { name: 'g-worker-1', addresses: ['10.1.6.11'] }] });
  const first = await runAction(bed.cp, nodeInputs(['g-worker-0', 'g-worker-1']));
  assert.equal(first.outputs.result, 'success', first.stdout);
  const renewal = (ips: string[]) =>
    sim.adversary.file('renewal', { identity: nodeIdentity('g-worker-0'), signerName: SIGNER.kubeletServing, usages: USAGES.serving, spec: { commonName: 'system:node:g-worker-0', organizations: ['system:nodes'], dnsNames: ['g-worker-0'], ipAddresses: ips } });
  const good = await renewal(['10.1.6.10']);
  const stolen = await renewal(['10.1.6.10', '10.1.6.11']);
  const rerun = await runAction(bed.cp, nodeInputs(['g-worker-0', 'g-worker-1']));
  assert.equal(rerun.outputs.result, 'success', rerun.stdout);
  assert.deepEqual(rerun.json('approved-csrs'), [good]);
  assert.deepEqual(await conditionTypes(good), ['Approved']);
  assert.deepEqual(await conditionTypes(stolen), []);
  const refused = rerun.json('refused-csrs').find((r) => r.name === stolen);
  assert.equal(refused?.reason, 'san-of-other-node');
});

test('a list is read in pages: a machine whose CSR comes after 250 other requests is found by the list', { timeout: 180_000 }, async () => {
  // Names sort before the kubelets' generated csr-xxxxx, so the worker's CSR, filed before the
  // action starts (it cannot arrive by the watch), is on the third page of 100.
  const fillers = Array.from({ length: 250 }, (_, i) => `aaa-page-filler-${String(i).padStart(3, '0')}`);
  const { pem } = buildCsr({ commonName: 'page-filler', organizations: ['example'] });
  for (let i = 0; i < fillers.length; i += 25) {
    await Promise.all(
      fillers.slice(i, i + 25).map((name) => {
        const body = csrObject(pem, 'kubernetes.io/kube-apiserver-client', ['client auth']) as { metadata: object };
        return bed.cp.admin.request('POST', PATHS.csrs, { body: { ...body, metadata: { name } } });
      }),
    );
  }
  try {
    const sim = await install({ workers: [{ name: 'p-worker-0', addresses: ['10.1.0.40'] }] });
    const [kubelet] = sim.kubelets;
    assert.ok(kubelet!.clientCsrs[0]! > fillers.at(-1)!, 'the worker filed its client CSR before the action started, after every filler by name');
    const mark = audit.mark();
    const run = await runAction(bed.cp, nodeInputs(['p-worker-0']));
    assert.equal(run.exitCode, 0, run.stdout);
    const lists = audit.requests({ user: ACTION_USER, since: mark }).filter((r) => r.verb === 'list' && r.resource === 'certificatesigningrequests');
    assert.ok(lists.length >= 3 && lists.every((r) => /[?&]limit=100(&|$)/.test(r.uri)), `every list asks for a page of 100: ${lists.map((r) => r.uri).join(', ')}`);
    assert.ok(lists.filter((r) => /[?&]continue=/.test(r.uri)).length >= 2, 'the pages after the first were read with the continue token');
    assert.equal(run.outputs['nodes-ready'], 'true');
    assert.ok(run.json('approved-csrs').includes(kubelet!.clientCsrs[0]!), 'the CSR on the third page was approved');
    assert.deepEqual(await conditionTypes(fillers[0]!), [], 'another signer\'s request is left alone');
  } finally {
    for (const name of fillers) await bed.cp.admin.request('DELETE', objectPath(PATHS.csrs, name), { okStatuses: [200, 404] });
  }
});
