// The simulator against the real control plane, with a trivial approver standing in for the action.
/* eslint-disable @typescript-eslint/no-explicit-any */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { CLUSTER_VERSION_NAME, objectPath, PATHS } from '../../src/cluster/paths.ts';
import { KubeApiError } from '../env/client.ts';
import { until, untilObserved } from '../env/until.ts';
import { buildCsr, tamperSignature } from '../sim/csr-builder.ts';
import { BOOTSTRAPPER, SIGNER, USAGES, csrObject } from '../sim/common.ts';
import { startInstall } from '../sim/install.ts';
import { completesAfter } from '../sim/cluster-version.ts';
import { sharedControlPlane } from './harness.ts';

// The simulator is tested with its own defaults (startInstall), on the bed's control plane.
const bed = sharedControlPlane();
const CSR_PATH = PATHS.csrs;
const REGISTRY_CONFIG_PATH = PATHS.registryConfig;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const POLL = { intervalMs: 50 };

const pending = (csr: any) => (csr.status?.conditions ?? []).length === 0;

/** Approves every pending CSR `accept` picks, as the test's stand-in for the action. */
function approveLoop(accept: (csr: any) => boolean): { approved: string[]; stop(): Promise<void> } {
  const approved: string[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        const list = await bed.cp.admin.request('GET', CSR_PATH);
        for (const csr of list.items) {
          if (!pending(csr) || !accept(csr)) continue;
          await approve(csr);
          approved.push(csr.metadata.name);
        }
      } catch (e) {
        console.log(`# approver: ${(e as Error).message}`); // the next round retries
      }
      await sleep(100);
    }
  })();
  return {
    approved,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

async function approve(csr: any): Promise<void> {
  const body = { ...csr, status: { ...csr.status, conditions: [{ type: 'Approved', status: 'True', reason: 'SimTest', message: 'approved by the simulator test' }] } };
  await bed.cp.admin.request('PUT', `${objectPath(CSR_PATH, csr.metadata.name)}/approval`, { body });
}

function publicKey(csr: any): string {
  const pem = Buffer.from(csr.spec.request, 'base64').toString();
  return spawnSync('openssl', ['req', '-noout', '-pubkey', '-in', '-'], { input: pem, encoding: 'utf8' }).stdout;
}

const condition = (obj: any, type: string) => (obj?.status?.conditions ?? []).find((c: any) => c.type === type);

test('two workers go client CSR -> Node -> serving CSR -> Ready', { timeout: 60_000 }, async () => {
  const t0 = Date.now();
  const install = await startInstall(bed.cp, {
    registry: false,
    workers: [
      { name: 'worker-0', addresses: ['10.0.0.20'] },
      { name: 'worker-1', addresses: ['10.0.0.21', '2001:db8::21'] },
    ],
  });
  const approver = approveLoop((csr) => install.kubelets.some((k) => k.clientCsrs.includes(csr.metadata.name) || k.servingCsrs.includes(csr.metadata.name)));
  try {
    await install.whenReady(undefined, 30_000);
    const elapsed = Date.now() - t0;
    for (const k of install.kubelets) {
      assert.equal(k.phase, 'ready');
      const t = k.times;
      for (const step of ['clientCsrCreated', 'clientApproved', 'clientIssued', 'nodeRegistered', 'servingCsrCreated', 'servingApproved', 'servingIssued', 'ready'] as const) {
        assert.ok(t[step], `${k.name} has ${step}`);
      }
      assert.ok(t.clientCsrCreated! <= t.clientApproved! && t.clientApproved! <= t.clientIssued! && t.clientIssued! <= t.nodeRegistered!);
      assert.ok(t.nodeRegistered! <= t.servingCsrCreated! && t.servingCsrCreated! <= t.servingIssued! && t.servingIssued! <= t.ready!);
      assert.match(k.certificates.client ?? '', /BEGIN CERTIFICATE/);
      assert.match(k.certificates.serving ?? '', /BEGIN CERTIFICATE/);

      const node = await bed.cp.admin.request('GET', objectPath(PATHS.nodes, k.name));
      assert.equal(condition(node, 'Ready')?.status, 'True');
      assert.deepEqual(
        node.status.addresses.map((a: any) => a.address),
        [...k.addresses, k.name],
      );
      const [client] = k.clientCsrs;
      const [serving] = k.servingCsrs;
      const clientCsr = await bed.cp.admin.request('GET', objectPath(CSR_PATH, client!));
      assert.equal(clientCsr.spec.signerName, SIGNER.kubeletClient);
      assert.equal(clientCsr.spec.username, BOOTSTRAPPER.user);
      assert.deepEqual([...clientCsr.spec.groups].sort(), [...BOOTSTRAPPER.groups].sort());
      const servingCsr = await bed.cp.admin.request('GET', objectPath(CSR_PATH, serving!));
      assert.equal(servingCsr.spec.signerName, SIGNER.kubeletServing);
      assert.equal(servingCsr.spec.username, `system:node:${k.name}`);
      assert.ok(servingCsr.spec.groups.includes('system:nodes'));
      assert.ok(servingCsr.status.certificate);
    }
    assert.equal(approver.approved.length, 4);
    const ready = install.events.filter((e) => e.kind === 'ready').map((e) => e.subject).sort();
    assert.deepEqual(ready, ['worker-0', 'worker-1']);
    const nodes = await bed.cp.admin.request('GET', PATHS.nodes);
    assert.deepEqual(nodes.items.map((n: any) => n.metadata.name).sort(), ['master-0', 'master-1', 'master-2', 'worker-0', 'worker-1']);
    console.log(`# two workers Ready ${elapsed} ms after startInstall; simulator CPU ${install.cpuMs().toFixed(1)} ms`);
  } finally {
    await approver.stop();
    await install.stop();
  }
});

test('a kubelet nobody answers files a new CSR with a new key after reRequestAfterMs; only the newest counts', { timeout: 60_000 }, async () => {
  const install = await startInstall(bed.cp, { registry: false, reRequestAfterMs: 800, workers: [{ name: 'worker-late', addresses: ['10.0.0.30'] }] });
  try {
    const k = install.kubelet('worker-late');
    await until(() => k.clientCsrs.length >= 2, { message: 'a second client CSR', ...POLL });
    const [first, second] = k.clientCsrs as [string, string];
    assert.equal(k.liveCsr, second);
    const a = await bed.cp.admin.request('GET', objectPath(CSR_PATH, first));
    const b = await bed.cp.admin.request('GET', objectPath(CSR_PATH, second));
    assert.ok(pending(a) && pending(b), 'the old CSR stays pending');
    assert.notEqual(publicKey(a), publicKey(b), 'a new key');
    assert.ok(install.events.some((e) => e.kind === 're-request' && e.csr === first));

    // Approving the abandoned one does not move the kubelet on.
    await approve(a);
    await until(() => install.events.some((e) => e.kind === 'stale-csr-approved' && e.csr === first), { message: 'the stale approval seen', ...POLL });
    await until(async () => (await bed.cp.admin.request('GET', objectPath(CSR_PATH, first))).status?.certificate, { message: 'the stale CSR issued', ...POLL });
    await sleep(200);
    assert.equal(k.phase, 'client-pending');
    assert.equal(k.times.clientIssued, undefined);

    // The live one does (it may have been re-requested again meanwhile: approve whatever is live).
    const live = await bed.cp.admin.request('GET', objectPath(CSR_PATH, k.liveCsr));
    await approve(live);
    await until(() => k.phase === 'serving-pending' || k.phase === 'ready', { message: 'the Node registered', ...POLL });
    assert.ok(k.times.clientIssued);
  } finally {
    await install.stop();
  }
});

test('a machine that has waited a while starts with 3 pending client CSRs, oldest first', { timeout: 60_000 }, async () => {
  const install = await startInstall(bed.cp, { registry: false, workers: [{ name: 'worker-old', addresses: ['10.0.0.31'], preexistingClientCsrs: 3 }] });
  try {
    const k = install.kubelet('worker-old');
    assert.equal(k.clientCsrs.length, 3);
    assert.equal(k.liveCsr, k.clientCsrs[2]);
    const csrs = await Promise.all(k.clientCsrs.map((n) => bed.cp.admin.request('GET', objectPath(CSR_PATH, n))));
    assert.ok(csrs.every(pending));
    const created = csrs.map((c) => Date.parse(c.metadata.creationTimestamp));
    assert.ok(created[0]! < created[1]! && created[1]! < created[2]!, `distinct creation times, oldest first: ${created.join(' ')}`);
    assert.ok(csrs.every((c) => c.spec.username === BOOTSTRAPPER.user));
  } finally {
    await install.stop();
  }
});

test('registry operator: Removed -> Managed with emptyDir -> Available; Managed without storage -> Degraded', { timeout: 60_000 }, async () => {
  const install = await startInstall(bed.cp, { controlPlaneNodes: 0, registry: { rolloutMs: 500 } });
  const get = () => bed.cp.admin.request('GET', REGISTRY_CONFIG_PATH);
  const co = () => bed.cp.admin.request('GET', objectPath(PATHS.clusterOperators, 'image-registry'));
  try {
    let cfg = await get();
    assert.equal(cfg.spec.managementState, 'Removed');
    assert.equal(cfg.spec.replicas, 1);
    assert.ok(cfg.spec.httpSecret);
    assert.equal(condition(cfg, 'Available')?.reason, 'Removed');
    assert.equal(condition(cfg, 'Available')?.status, 'True');
    assert.equal(condition(cfg, 'Removed')?.status, 'True');
    assert.equal(condition(await co(), 'Available')?.status, 'True', 'a removed registry looks stable');

    await bed.cp.admin.request('PATCH', REGISTRY_CONFIG_PATH, { body: { spec: { managementState: 'Managed', storage: { emptyDir: {} } } } });
    await until(async () => condition(await get(), 'Progressing')?.status === 'True', { message: 'Progressing', ...POLL });
    cfg = await until(async () => {
      const c = await get();
      return condition(c, 'Available')?.status === 'True' && condition(c, 'Progressing')?.status === 'False' && c.status.storage?.emptyDir ? c : undefined;
    }, { message: 'Available', ...POLL });
    assert.ok(cfg.status.observedGeneration >= cfg.metadata.generation);
    assert.equal(condition(cfg, 'Removed')?.status, 'False');
    assert.equal(condition(cfg, 'StorageExists')?.status, 'True');
    assert.equal(cfg.status.storageManaged, false);
    // The operator writes its ClusterOperator after the Config's status: wait for it too.
    const stable = await until(async () => {
      const c = await co();
      return ['Available', 'Progressing', 'Degraded'].map((t) => condition(c, t)?.status).join() === 'True,False,False' ? c : undefined;
    }, { message: 'image-registry ClusterOperator stable', ...POLL });
    assert.equal(condition(stable, 'Available')?.reason, 'Ready');

    await bed.cp.admin.request('PATCH', REGISTRY_CONFIG_PATH, { body: { spec: { storage: { emptyDir: null } } } });
    cfg = await until(async () => {
      const c = await get();
      return condition(c, 'Degraded')?.status === 'True' ? c : undefined;
    }, { message: 'Degraded', ...POLL });
    assert.equal(condition(cfg, 'Degraded')?.reason, 'StorageNotConfigured');
    assert.equal(condition(cfg, 'Available')?.status, 'False');
    assert.equal(condition(await co(), 'Degraded')?.status, 'True');
  } finally {
    await install.stop();
  }
});

test('registry operator: claim "" makes its own PVC; ReadWriteOnce needs Recreate and one replica', { timeout: 60_000 }, async () => {
  const install = await startInstall(bed.cp, { controlPlaneNodes: 0, registry: { rolloutMs: 300 } });
  const get = () => bed.cp.admin.request('GET', REGISTRY_CONFIG_PATH);
  const pvcs = PATHS.registryPvcs;
  const settled = (c: any) => c.status?.observedGeneration >= c.metadata.generation;
  try {
    await bed.cp.admin.request('PATCH', REGISTRY_CONFIG_PATH, { body: { spec: { managementState: 'Managed', storage: { emptyDir: null, pvc: { claim: '' } } } } });
    let cfg = await until(async () => {
      const c = await get();
      return c.spec.storage.pvc?.claim === 'image-registry-storage' && condition(c, 'Available')?.status === 'True' && settled(c) && c.status.storage?.pvc ? c : undefined;
    }, { message: 'the claim rewritten and Available', ...POLL });
    assert.equal(cfg.spec.storage.managementState, 'Managed');
    assert.equal(cfg.status.storageManaged, true);
    const pvc = await bed.cp.admin.request('GET', objectPath(pvcs, 'image-registry-storage'));
    assert.deepEqual(pvc.spec.accessModes, ['ReadWriteMany']);
    assert.equal(pvc.spec.resources.requests.storage, '100Gi');
    assert.equal(pvc.metadata.annotations['imageregistry.openshift.io'], 'true');

    // A missing named claim
    await bed.cp.admin.request('PATCH', REGISTRY_CONFIG_PATH, { body: { spec: { storage: { pvc: { claim: 'registry-rwo' } } } } });
    cfg = await until(async () => {
      const c = await get();
      return condition(c, 'Degraded')?.status === 'True' && settled(c) ? c : undefined;
    }, { message: 'Degraded for a missing claim', ...POLL });
    assert.match(condition(cfg, 'Degraded').message, /registry-rwo.*not found/);

    // A ReadWriteOnce claim under RollingUpdate never finishes its rollout
    await bed.cp.admin.request('POST', pvcs, {
      body: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'registry-rwo' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10Gi' } } } },
    });
    cfg = await until(async () => {
      const c = await get();
      return condition(c, 'Progressing')?.reason === 'Error' && condition(c, 'Degraded')?.status === 'False' ? c : undefined;
    }, { message: 'stuck Progressing', ...POLL });
    assert.equal(condition(cfg, 'Available')?.status, 'False');
    assert.match(condition(cfg, 'Progressing').message, /ReadWriteOnce/);

    await bed.cp.admin.request('PATCH', REGISTRY_CONFIG_PATH, { body: { spec: { rolloutStrategy: 'Recreate' } } });
    cfg = await until(async () => {
      const c = await get();
      return condition(c, 'Available')?.status === 'True' && condition(c, 'Progressing')?.status === 'False' && c.status.storage?.pvc?.claim === 'registry-rwo' && settled(c) ? c : undefined;
    }, { message: 'Available with the RWO claim', ...POLL });
    assert.equal(cfg.status.storageManaged, false);
  } finally {
    await install.stop();
  }
});

test('registry conflict fault: a read-modify-write with the read resourceVersion gets 409', { timeout: 60_000 }, async () => {
  // Rewritten every 50 ms until stopped: a bounded number of rewrites could all come before the
  // read below, and the patch would then rightly succeed.
  const install = await startInstall(bed.cp, { controlPlaneNodes: 0, registry: { faults: { rewriteBetweenReadAndPatch: { everyMs: 50 } } } });
  try {
    const read: string = (await bed.cp.admin.request('GET', REGISTRY_CONFIG_PATH)).metadata.resourceVersion;
    await untilObserved(async () => (await bed.cp.admin.request('GET', REGISTRY_CONFIG_PATH)).metadata.resourceVersion, (rv) => rv !== read, { message: `the Config rewritten after the read at resourceVersion ${read}`, ...POLL });
    await until(() => install.registry!.configBumps > 0, { message: 'a rewrite by the fault', ...POLL });
    const err = await bed.cp.admin
      .request('PATCH', REGISTRY_CONFIG_PATH, { body: { metadata: { resourceVersion: read }, spec: { replicas: 1 } } })
      .then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof KubeApiError && err.status === 409, String(err));
  } finally {
    await install.stop();
  }
});

test('capability disabled: no Config and no image-registry ClusterOperator', { timeout: 60_000 }, async () => {
  await bed.cp.admin.request('DELETE', REGISTRY_CONFIG_PATH);
  await bed.cp.admin.request('DELETE', objectPath(PATHS.clusterOperators, 'image-registry'));
  const install = await startInstall(bed.cp, { controlPlaneNodes: 0, registry: { capabilityDisabled: true } });
  try {
    await sleep(300);
    const res = await bed.cp.admin.requestRaw('GET', REGISTRY_CONFIG_PATH);
    assert.equal(res.status, 404);
    assert.equal((await bed.cp.admin.requestRaw('GET', objectPath(PATHS.clusterOperators, 'image-registry'))).status, 404);
  } finally {
    await install.stop();
  }
});

test('a scripted ClusterOperator steps through its timeline', { timeout: 60_000 }, async () => {
  const install = await startInstall(bed.cp, {
    controlPlaneNodes: 0,
    registry: false,
    operators: {
      scripted: {
        'sim-dns': [
          { atMs: 0, available: 'False', progressing: 'True', degraded: 'False', message: 'starting' },
          { atMs: 300, available: 'True', progressing: 'False', message: 'ready' },
          { atMs: 600, degraded: 'True', reason: 'Flapping', message: 'lost a pod' },
          { atMs: 900, degraded: null, progressing: null },
        ],
      },
    },
  });
  const seen: string[] = [];
  const w = bed.cp.admin.watch(`${PATHS.clusterOperators}?fieldSelector=metadata.name%3Dsim-dns`, (_type, obj) => {
    const conds = (obj?.status?.conditions ?? []).map((c: any) => `${c.type}=${c.status}`).join(' ');
    if (conds && seen.at(-1) !== conds) seen.push(conds);
  });
  try {
    const [op] = install.operators;
    await op!.done;
    assert.equal(op!.applied, 4);
    await until(() => seen.at(-1) === 'Available=True', { message: 'the last step seen', ...POLL });
    assert.deepEqual(seen, [
      'Available=False Progressing=True Degraded=False',
      'Available=True Progressing=False Degraded=False',
      'Available=True Progressing=False Degraded=True',
      'Available=True',
    ]);
    const co = await bed.cp.admin.request('GET', objectPath(PATHS.clusterOperators, 'sim-dns'));
    assert.deepEqual(co.spec, {});
    assert.deepEqual(co.status.versions, [{ name: 'operator', version: '4.16.0' }]);
    assert.equal(condition(co, 'Available').message, 'ready');
  } finally {
    w.stop();
    await install.stop();
  }
});

test('converging operators all end Available, not Progressing, not Degraded within the window', { timeout: 60_000 }, async () => {
  const names = ['sim-a', 'sim-b', 'sim-c', 'image-registry'];
  const install = await startInstall(bed.cp, { controlPlaneNodes: 0, registry: false, operators: { converging: { names, withinMs: 600, seed: 7 } } });
  try {
    await Promise.all(install.operators.map((o) => o.done));
    for (const name of names) {
      const co = await bed.cp.admin.request('GET', objectPath(PATHS.clusterOperators, name));
      assert.deepEqual(['Available', 'Progressing', 'Degraded'].map((t) => condition(co, t)?.status), ['True', 'False', 'False'], name);
    }
    const steps = install.events.filter((e) => e.kind === 'operator-step');
    assert.equal(steps.length, 2 * names.length);
  } finally {
    await install.stop();
  }
});

test('every forgery the API server accepts is left pending; NodeRestriction (1.31+) and a bad signature are refused at creation', { timeout: 60_000 }, async () => {
  const install = await startInstall(bed.cp, { controlPlaneNodes: 1, registry: false });
  const adv = install.adversary;
  try {
    const names = [
      await adv.clientFromWrongRequester('worker-9'),
      await adv.clientForExistingNode('master-0'),
      await adv.clientForUnlistedMachine('rogue-0'),
      await adv.clientWrongOrg('worker-9'),
      await adv.clientExtraOrg('worker-9'),
      await adv.clientMissingOrg('worker-9'),
      await adv.clientWithSan('worker-9'),
      await adv.clientExtraUsage('worker-9'),
      await adv.clusterAdminClientCert(),
      await adv.servingTwoCommonNames('worker-9', 'master-0', ['10.0.0.10']),
      await adv.servingWithOtherNodesIp('worker-9', '10.0.0.10'),
      await adv.servingOutsideDeclared('worker-9'),
      await adv.servingWithEmailSan('worker-9'),
      await adv.servingWithUriSan('worker-9'),
    ];
    assert.equal(new Set(names).size, names.length);
    for (const name of names) assert.ok(pending(await bed.cp.admin.request('GET', objectPath(CSR_PATH, name))), name);
    const wrong = await bed.cp.admin.request('GET', objectPath(CSR_PATH, names[0]!));
    assert.equal(wrong.spec.username, 'system:serviceaccount:default:attacker');
    const mismatch = await bed.cp.admin.request('GET', objectPath(CSR_PATH, names[9]!));
    assert.equal(mismatch.spec.username, 'system:node:worker-9');

    const cnMismatch = adv.servingCnMismatch('worker-9', 'master-0', ['10.0.0.10']);
    if (bed.cp.leg === 'current') await assert.rejects(cnMismatch, (e: Error & { status?: number }) => e.status === 403 && /can only create a node CSR with CN=system:node:worker-9/.test(e.message));
    else assert.ok(pending(await bed.cp.admin.request('GET', objectPath(CSR_PATH, await cnMismatch))));

    const { pem } = buildCsr({ commonName: 'system:node:worker-9', organizations: ['system:nodes'] });
    const res = await bed.cp.admin.requestRaw('POST', CSR_PATH, { body: csrObject(tamperSignature(pem), SIGNER.kubeletClient, USAGES.client), impersonate: BOOTSTRAPPER });
    assert.equal(res.status, 422, res.body);
  } finally {
    await install.stop();
  }
});

test('ClusterVersion follows its script and passes OpenShift\'s schema; capabilities as given', { timeout: 60_000 }, async () => {
  const install = await startInstall(bed.cp, {
    controlPlaneNodes: 0, registry: false,
    clusterVersion: { version: '4.21.3', enabledCapabilities: ['Console', 'Ingress'], steps: completesAfter(400) },
  });
  const get = () => bed.cp.admin.request('GET', objectPath(PATHS.clusterVersions, CLUSTER_VERSION_NAME));
  try {
    const installing = await until(async () => {
      const cv = await get();
      return condition(cv, 'Progressing')?.status === 'True' ? cv : undefined;
    }, { message: 'Progressing', ...POLL });
    assert.equal(installing.status.history[0].state, 'Partial');
    assert.equal(installing.status.history[0].completionTime, null);
    await install.clusterVersion!.done;
    const cv = await get();
    assert.deepEqual(['Available', 'Failing', 'Progressing'].map((t) => condition(cv, t)?.status), ['True', 'False', 'False']);
    assert.equal(cv.status.history[0].state, 'Completed');
    assert.equal(cv.status.desired.version, '4.21.3');
    assert.deepEqual(cv.status.capabilities.enabledCapabilities, ['Console', 'Ingress']);
    assert.ok(cv.status.capabilities.knownCapabilities.includes('ImageRegistry'));
    assert.deepEqual(install.events.filter((e) => e.kind === 'error'), []);
  } finally {
    await install.stop();
    await bed.cp.admin.request('DELETE', objectPath(PATHS.clusterVersions, CLUSTER_VERSION_NAME), { okStatuses: [200, 404] });
  }
});

test('a MachineConfigPool counts the Nodes of its role and is Updated once they have rolled out', { timeout: 60_000 }, async () => {
  const install = await startInstall(bed.cp, {
    controlPlaneNodes: 0, registry: false, clusterVersion: false,
    // a pool of its own: the Nodes of earlier tests in this file carry the worker role
    workers: ['mcp-worker-0', 'mcp-worker-1'].map((name, i) => ({ name, addresses: [`10.0.7.1${i}`], labels: { 'node-role.kubernetes.io/mcp-test': '' } })),
    pools: [{ name: 'mcp-test', rolloutMs: 800 }],
  });
  const get = () => bed.cp.admin.request('GET', objectPath(PATHS.machineConfigPools, 'mcp-test'));
  try {
    // nobody approves these kubelets: approve them as the admin so that the Nodes appear
    const approver = approveLoop((csr) => install.kubelets.some((k) => k.clientCsrs.includes(csr.metadata.name) || k.servingCsrs.includes(csr.metadata.name)));
    try {
      await install.whenReady(undefined, 30_000);
    } finally {
      await approver.stop();
    }
    const rolling = await get();
    assert.equal(rolling.status.machineCount, 2);
    const pool = await until(async () => {
      const p = await get();
      return condition(p, 'Updated')?.status === 'True' ? p : undefined;
    }, { message: 'pool Updated', ...POLL });
    assert.deepEqual([pool.status.machineCount, pool.status.updatedMachineCount, pool.status.readyMachineCount], [2, 2, 2]);
    assert.equal(condition(pool, 'Degraded')?.status, 'False');
    assert.ok(pool.status.observedGeneration >= pool.metadata.generation);
    assert.deepEqual(install.events.filter((e) => e.kind === 'error'), []);
  } finally {
    await install.stop();
  }
});
