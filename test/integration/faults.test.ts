// Faults a gate must survive on a bad day, on the real API server: restarts, cut connections,
// 429s, a competing approver, a registry operator rewriting its Config, no signer, no server,
// and a role with a rule missing. In every case: every valid CSR approved, no invalid one,
// outputs written.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { objectPath, PATHS } from '../../src/cluster/paths.ts';
import { startControlPlane, type ControlPlane } from '../env/controlplane.ts';
import { startProxy, withServer } from '../env/proxy.ts';
import { untilObserved } from '../env/until.ts';
import { startInstall, type SimulatedInstall } from '../sim/install.ts';
import { runAction, sharedControlPlane, startAction, type ActionRun } from './harness.ts';

const bed = sharedControlPlane();
const tightInstalls: SimulatedInstall[] = [];

const CSRS = PATHS.csrs;
const workers = (prefix: string, count: number, net: number, spreadMs = 0) =>
  Array.from({ length: count }, (_, i) => ({ name: `${prefix}-${i}`, addresses: [`10.2.${net}.${10 + i}`], startAfterMs: Math.round((spreadMs * i) / count) }));
const inputs = (names: string[], extra: Record<string, string> = {}) => ({ nodes: names.join('\n'), 'wait-for-operators': 'false', 'nodes-timeout': '120s', ...extra });

async function install(target: ControlPlane, options: Parameters<typeof startInstall>[1]): Promise<SimulatedInstall> {
  if (target !== bed.cp) {
    const sim = await startInstall(target, { controlPlaneNodes: 0, registry: false, ...options });
    tightInstalls.push(sim);
    return sim;
  }
  return bed.install(options ?? {});
}

/** Every CSR the kubelets filed is approved by someone, the rogue one is not, and the action approved nothing else. */
async function assertOnlyValidApproved(target: ControlPlane, sim: SimulatedInstall, run: ActionRun, rogue: string): Promise<void> {
  assert.equal(run.outputs.result, 'success', run.stdout.slice(-3000));
  const legit = new Set(sim.kubelets.flatMap((k) => [...k.clientCsrs, ...k.servingCsrs]));
  for (const name of run.json('approved-csrs')) assert.ok(legit.has(name), `${name} approved by the action belongs to a kubelet`);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const rogueCsr: any = await target.admin.request('GET', objectPath(CSRS, rogue));
  assert.equal(rogueCsr.status?.conditions, undefined, 'the forged request stays Pending');
  assert.ok(run.json('refused-csrs').some((r) => r.name === rogue && r.reason === 'node-not-listed'));
  for (const kubelet of sim.kubelets) assert.equal(kubelet.phase, 'ready', `${kubelet.name} Ready`);
}

test('kube-apiserver killed and restarted in the middle of approvals', { timeout: 240_000 }, async () => {
  const spec = workers('r-worker', 8, 1, 8000);
  const sim = await install(bed.cp, { workers: spec });
  const rogue = await sim.adversary.clientForUnlistedMachine('r-rogue');
  const action = startAction(bed.cp, inputs(spec.map((w) => w.name)));
  // In the middle of approvals by what the action logged, not 2.5 s on a clock: on a busy
  // machine the action had not started approving by then, and the restart came before.
  await untilObserved(action.stdoutSoFar, (log) => /approved (client|serving) CSR/.test(log), { message: 'the action approved a first CSR', timeoutMs: 60_000 });
  await bed.cp.restartApiServer();
  const run = await action.done;
  await assertOnlyValidApproved(bed.cp, sim, run, rogue);
});

test('connections cut every 2 seconds by a loopback proxy', { timeout: 240_000 }, async () => {
  const proxy = await startProxy(bed.cp.url);
  try {
    const spec = workers('x-worker', 6, 2, 8000);
    const sim = await install(bed.cp, { workers: spec });
    const rogue = await sim.adversary.clientForUnlistedMachine('x-rogue');
    const stopCutting = proxy.cutEvery(2000);
    const run = await runAction(undefined, { ...inputs(spec.map((w) => w.name)), kubeconfig: withServer(bed.cp.kubeconfig('action'), proxy.url) });
    stopCutting();
    assert.ok(proxy.cuts >= 3, `connections were cut (${proxy.cuts} times)`);
    await assertOnlyValidApproved(bed.cp, sim, run, rogue);
  } finally {
    await proxy.close();
  }
});

test('another approver approving the same CSRs at the same time (409, already approved)', { timeout: 240_000 }, async () => {
  const spec = workers('c-worker', 6, 3, 3000);
  const sim = await install(bed.cp, { workers: spec });
  const rogue = await sim.adversary.clientForUnlistedMachine('c-rogue');
  let competing = true;
  let approvedByOther = 0;
  const other = (async () => {
    while (competing) {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const list: any = await bed.cp.admin.request('GET', CSRS);
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      for (const csr of list.items as any[]) {
        if (csr.status?.conditions || !csr.spec.username.startsWith('system:')) continue;
        if (!spec.some((w) => csr.spec.username === `system:node:${w.name}`) && csr.spec.signerName !== 'kubernetes.io/kube-apiserver-client-kubelet') continue;
        if (csr.metadata.name === rogue) continue;
        const body = { ...csr, status: { conditions: [{ type: 'Approved', status: 'True', reason: 'Other', message: 'competing approver' }] } };
        const response = await bed.cp.admin.requestRaw('PUT', `${objectPath(CSRS, csr.metadata.name)}/approval`, { body });
        if (response.status === 200) approvedByOther++;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const run = await runAction(bed.cp, inputs(spec.map((w) => w.name)));
  competing = false;
  await other;
  assert.ok(approvedByOther > 0, 'the other approver won some races');
  await assertOnlyValidApproved(bed.cp, sim, run, rogue);
  assert.doesNotMatch(run.stdout, /could not approve/);
});

test('the registry operator rewriting its Config between read and patch', { timeout: 120_000 }, async () => {
  await install(bed.cp, { registry: { rolloutMs: 300, faults: { rewriteBetweenReadAndPatch: { everyMs: 30 } } } });
  const run = await runAction(bed.cp, { 'wait-for-operators': 'false', 'registry-storage': 'emptyDir' });
  assert.equal(run.outputs.result, 'success', run.stdout);
  assert.equal(run.json('registry').ready, true);
});

test('no signer: approved but never issued is reported, not hung', { timeout: 120_000 }, async () => {
  await bed.cp.stopSigner();
  try {
    const sim = await install(bed.cp, { workers: [{ name: 's-worker-0', addresses: ['10.2.5.10'] }] });
    const run = await runAction(bed.cp, inputs(['s-worker-0'], { 'nodes-timeout': '8s' }));
    assert.equal(run.outputs.result, 'timeout');
    assert.match(run.stdout, /::error::Nodes not Ready.*s-worker-0 \(client CSR approved but no certificate issued \(is the cluster signer running\?\)\)/);
    assert.ok(run.json('approved-csrs').includes(sim.kubelet('s-worker-0').clientCsrs[0]!));
  } finally {
    await bed.cp.startSigner();
  }
});

test('an unreachable API server gives a clear error within a bounded time', { timeout: 120_000 }, async () => {
  const started = Date.now();
  const run = await runAction(undefined, { ...inputs(['u-worker-0']), kubeconfig: withServer(bed.cp.kubeconfig('action'), 'https://127.0.0.1:1') });
  assert.equal(run.outputs.result, 'error');
  assert.match(run.stdout, /::error::.*cannot reach the API server at https:\/\/127\.0\.0\.1:1 .*check the kubeconfig/);
  assert.ok(Date.now() - started < 45_000, `failed after ${Date.now() - started} ms`);
  assert.deepEqual(run.json('approved-csrs'), []);
});

test('a role with one rule removed: the preflight names the rule, and nothing is approved', { timeout: 120_000 }, async () => {
  const path = '/apis/rbac.authorization.k8s.io/v1/clusterroles/openshift-finish-install';
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const role: any = await bed.cp.admin.request('GET', path);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const reduced = { ...role, rules: role.rules.filter((r: any) => !(r.resources ?? []).includes('signers')) };
  await bed.cp.admin.request('PUT', path, { body: reduced });
  try {
    const sim = await install(bed.cp, { workers: [{ name: 'p-worker-0', addresses: ['10.2.6.10'] }] });
    // RBAC changes reach the authorizer through its informer: wait until the identity is refused.
    const review = { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { verb: 'approve', group: 'certificates.k8s.io', resource: 'signers', name: 'kubernetes.io/kube-apiserver-client-kubelet' } } };
    await untilObserved(
      () => bed.cp.action.request<{ status?: { allowed?: boolean } }>('POST', PATHS.selfSubjectAccessReviews, { body: review }),
      (answer) => !answer.status?.allowed,
      { message: 'the action identity refused approve on the kubelet client signer after the ClusterRole changed', timeoutMs: 15_000 },
    );
    const run = await runAction(bed.cp, inputs(['p-worker-0'], { 'nodes-timeout': '10s' }));
    assert.equal(run.outputs.result, 'error', run.stdout);
    assert.match(run.stdout, /::error::Missing permissions.*\{apiGroups: \["certificates\.k8s\.io"\], resources: \["signers"\], verbs: \["approve"\], resourceNames: \["kubernetes\.io\/kube-apiserver-client-kubelet"\]\}/);
    assert.deepEqual(run.json('approved-csrs'), []);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const csr: any = await bed.cp.admin.request('GET', objectPath(CSRS, sim.kubelet('p-worker-0').clientCsrs[0]!));
    assert.equal(csr.status?.conditions, undefined, 'no partial work');
  } finally {
    await bed.cp.admin.request('PUT', path, { body: { ...role, metadata: { ...role.metadata, resourceVersion: undefined } } });
  }
});

test('a server answering 429 under a burst (tiny max-in-flight limits)', { timeout: 300_000 }, async () => {
  const tight = await startControlPlane({ apiServerArgs: ['--enable-priority-and-fairness=false', '--max-requests-inflight=1', '--max-mutating-requests-inflight=1'] });
  try {
    const spec = workers('t-worker', 20, 7);
    const sim = await install(tight, { workers: spec });
    const rogue = await sim.adversary.clientForUnlistedMachine('t-rogue');
    const run = await runAction(tight, inputs(spec.map((w) => w.name)));
    // 429s as the server counts them (apiserver_dropped_requests_total is gone in current releases)
    const dropped = (await tight.metrics()).split('\n').filter((l) => l.startsWith('apiserver_request_total{') && l.includes('code="429"')).reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
    assert.ok(dropped > 0, 'the server answered 429');
    await assertOnlyValidApproved(tight, sim, run, rogue);
  } finally {
    await Promise.all(tightInstalls.map((i) => i.stop()));
    await tight.stop();
  }
});
