// Fidelity: the action against real kubelets (test/env/kubelet.ts), not our simulation of them.
// Unmodified kubelets of the control plane's version bootstrap with the node-bootstrapper token,
// register, file their serving CSRs and serve TLS with what the signer issued; the action decides
// every one of those requests under its least-privilege role. One control plane for the file;
// kubelets start in parallel; the host is checked to be as it was once they are all gone.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { objectPath, PATHS } from '../../src/cluster/paths.ts';
import { parseCertificateRequest } from '../../src/identity/x509.ts';
import { NODE_BOOTSTRAPPER } from '../env/controlplane.ts';
import { csrShape } from '../env/csr-shape.ts';
import { hostState, realKubeletsUnavailable, startRealKubelets, type RealKubelet, type RealKubeletOptions } from '../env/kubelet.ts';
import { until } from '../env/until.ts';
import { runAction, sharedControlPlane } from './harness.ts';

const skip = realKubeletsUnavailable();
const bed = sharedControlPlane();
const kubelets: RealKubelet[] = [];
let hostBefore: Awaited<ReturnType<typeof hostState>> | undefined;
/** A real kubelet's requests, from the first test, for the simulator's comparison. */
const real: { client?: Csr; serving?: Csr } = {};

before(async () => {
  if (skip) return;
  hostBefore = await hostState();
});
after(async () => {
  await Promise.all(kubelets.map((k) => k.remove()));
});

async function start(specs: RealKubeletOptions[]): Promise<RealKubelet[]> {
  const started = await startRealKubelets(await bed.ready(), specs);
  kubelets.push(...started);
  return started;
}

interface Csr { metadata: { name: string; creationTimestamp: string }; spec: { request: string; signerName: string; username: string; groups: string[]; usages: string[]; extra?: Record<string, string[]> }; status?: { conditions?: { type: string }[]; certificate?: string } }

async function csrsOf(node: string, signer: 'client' | 'serving'): Promise<Csr[]> {
  const signerName = signer === 'client' ? 'kubernetes.io/kube-apiserver-client-kubelet' : 'kubernetes.io/kubelet-serving';
  const list: { items: Csr[] } = await bed.cp.admin.request('GET', PATHS.csrs);
  return list.items.filter((c) => c.spec.signerName === signerName && parseCertificateRequest(c.spec.request).commonNames.includes(`system:node:${node}`));
}

const conditionTypes = (csr: Csr) => (csr.status?.conditions ?? []).map((c) => c.type);

/** Every kubelet serves a certificate the signer issued, naming its Node's addresses. */
async function assertServes(k: RealKubelet): Promise<void> {
  const cert = await until(() => k.servingCertificate(), { message: `${k.name} serves TLS with an issued certificate`, timeoutMs: 60_000, intervalMs: 250 })
    .catch((e: Error) => { throw new Error(`${e.message}\n--- ${k.name}'s kubelet log (end) ---\n${k.log().slice(-3000)}`); });
  assert.equal(cert.subject, `O=system:nodes\nCN=system:node:${k.name}`);
  assert.ok(cert.checkIssued(new (await import('node:crypto')).X509Certificate(bed.cp.signerCaPem)), `${k.name}'s certificate issued by the signer`);
  // DNS names then IPs, each sorted (IPs by their text), as the kubelet files them
  assert.equal(cert.subjectAltName, [`DNS:${k.name}`, ...[...k.addresses].sort().map((a) => `IP Address:${a}`)].join(', '));
}

test('three real kubelets join through the action (two declared, one not); an unlisted one stays out', { skip, timeout: 240_000 }, async () => {
  const [declared0, declared1, undeclared, stranger] = await start([
    { name: 'rk-0', addresses: ['10.40.0.10'] },
    { name: 'rk-1', addresses: ['10.40.0.11'] },
    // two addresses, set in an order that is not the kubelet's (it sorts them)
    { name: 'rk-2', addresses: ['10.40.0.12', '10.40.0.112'] },
    { name: 'rk-stranger', addresses: ['10.40.0.13'] },
  ]) as [RealKubelet, RealKubelet, RealKubelet, RealKubelet];
  // The stranger's bootstrap request exists before the run, so the run sees it.
  await until(async () => (await csrsOf('rk-stranger', 'client')).length > 0, { message: 'rk-stranger filed its bootstrap CSR', timeoutMs: 60_000 });
  const run = await runAction(bed.cp, {
    nodes: ['rk-0 10.40.0.10 rk-0', 'rk-1 10.40.0.11 rk-1', 'rk-2'].join('\n'),
    'wait-for-operators': 'false',
    'nodes-timeout': '120s',
  });
  assert.equal(run.outputs.result, 'success', run.stdout);
  assert.deepEqual(run.json('nodes').map((n) => [n.name, n.ready, n.clientApproved, n.servingIssued]), [
    ['rk-0', true, true, true],
    ['rk-1', true, true, true],
    ['rk-2', true, true, true],
  ]);
  const approved = run.json('approved-csrs');
  for (const k of [declared0, declared1, undeclared]) {
    const [client] = await csrsOf(k.name, 'client');
    const [serving] = await csrsOf(k.name, 'serving');
    assert.ok(client && approved.includes(client.metadata.name), `${k.name}'s bootstrap CSR approved`);
    assert.ok(serving && approved.includes(serving.metadata.name), `${k.name}'s serving CSR approved`);
    assert.equal(client.spec.username, NODE_BOOTSTRAPPER.user);
    assert.equal(serving.spec.username, `system:node:${k.name}`);
    await assertServes(k);
  }
  [real.client] = await csrsOf('rk-2', 'client');
  [real.serving] = await csrsOf('rk-2', 'serving');
  const strangers = await csrsOf(stranger.name, 'client');
  const refused = run.json('refused-csrs');
  for (const csr of strangers) {
    assert.deepEqual(conditionTypes(csr), [], 'the stranger\'s request stays Pending, never denied');
    assert.ok(!approved.includes(csr.metadata.name));
  }
  assert.ok(refused.some((r) => r.node === 'rk-stranger' && r.reason === 'node-not-listed'), JSON.stringify(refused));
  assert.equal((await bed.cp.admin.requestRaw('GET', objectPath(PATHS.nodes, 'rk-stranger'))).status, 404);
  await stranger.stop();
});

test('the simulated kubelet files what a real one files: request, key, subject, SANs, usages, requester, extra', { skip, timeout: 180_000 }, async () => {
  assert.ok(real.client && real.serving, 'the real requests of the test before');
  await bed.install({ workers: [{ name: 'sim-2', addresses: ['10.40.2.12', '10.40.2.112'] }] });
  const run = await runAction(bed.cp, { nodes: 'sim-2', 'wait-for-operators': 'false', 'nodes-timeout': '60s' });
  assert.equal(run.outputs.result, 'success', run.stdout);
  const [simClient] = await csrsOf('sim-2', 'client');
  const [simServing] = await csrsOf('sim-2', 'serving');
  assert.ok(simClient && simServing);
  const shape = (csr: Csr) => csrShape(csr, NODE_BOOTSTRAPPER.user);
  console.log(`# a real ${bed.cp.version} kubelet's requests: ${JSON.stringify({ client: shape(real.client), serving: shape(real.serving) })}`);
  assert.deepEqual(shape(simClient), shape(real.client), 'client request');
  assert.deepEqual(shape(simServing), shape(real.serving), 'serving request');
});

test('a real kubelet that lost its client certificate re-bootstraps for its existing Node: refused node-already-exists; a loopback InternalIP is refused san-loopback', { skip, timeout: 240_000 }, async () => {
  const rk0 = kubelets.find((k) => k.name === 'rk-0');
  assert.ok(rk0, 'rk-0 joined in the test before');
  const before = new Set((await csrsOf('rk-0', 'client')).map((c) => c.metadata.name));
  await rk0.restart({ loseClientCertificate: true });
  const [loopback] = await start([{ name: 'rk-lo', addresses: ['127.0.0.1'] }]) as [RealKubelet];
  const rebootstrap = await until(async () => (await csrsOf('rk-0', 'client')).find((c) => !before.has(c.metadata.name)), { message: 'rk-0 filed a new bootstrap CSR', timeoutMs: 60_000 });
  assert.equal(rebootstrap.spec.username, NODE_BOOTSTRAPPER.user, 'filed with the bootstrap credential');
  const run = await runAction(bed.cp, {
    nodes: ['rk-0 10.40.0.10 rk-0', 'rk-lo'].join('\n'),
    'wait-for-operators': 'false',
    'nodes-timeout': '45s',
  });
  // rk-lo never gets a serving certificate: the run ends in timeout, naming it.
  assert.equal(run.outputs.result, 'timeout', run.stdout);
  const refused = run.json('refused-csrs');
  assert.equal(refused.find((r) => r.name === rebootstrap.metadata.name)?.reason, 'node-already-exists', JSON.stringify(refused));
  const [servingLo] = await csrsOf('rk-lo', 'serving');
  assert.ok(servingLo, `rk-lo filed a serving CSR:\n${loopback.log().slice(-2000)}`);
  assert.equal(refused.find((r) => r.name === servingLo.metadata.name)?.reason, 'san-loopback', JSON.stringify(refused));
  for (const csr of [rebootstrap, servingLo]) {
    const now: Csr = await bed.cp.admin.request('GET', objectPath(PATHS.csrs, csr.metadata.name));
    assert.deepEqual(conditionTypes(now), [], `${csr.metadata.name} stays Pending, never denied`);
  }
  await Promise.all([rk0.stop(), loopback.stop()]);
});

test('ten real kubelets at once join through the action', { skip, timeout: 300_000 }, async () => {
  const specs = Array.from({ length: 10 }, (_, i) => ({ name: `rk-burst-${i}`, addresses: [`10.40.1.${10 + i}`] }));
  const t0 = Date.now();
  const burst = await start(specs);
  const run = await runAction(bed.cp, { nodes: specs.map((s) => `${s.name} ${s.addresses[0]} ${s.name}`).join('\n'), 'wait-for-operators': 'false', 'nodes-timeout': '180s' });
  assert.equal(run.outputs.result, 'success', run.stdout);
  const joined = Date.now() - t0;
  await Promise.all(burst.map(assertServes));
  console.log(`# ten real kubelets (Kubernetes ${bed.cp.version}): all Ready through the action ${(joined / 1000).toFixed(1)} s after their start, serving TLS ${((Date.now() - t0) / 1000).toFixed(1)} s after`);
  await Promise.all(burst.map((k) => k.stop()));
});

test('the host is as before: sysctls, mounts, /var/lib/kubelet and the kubelets\' other paths', { skip }, async () => {
  await Promise.all(kubelets.map((k) => k.remove()));
  const now = await hostState();
  assert.deepEqual(now, hostBefore);
});
