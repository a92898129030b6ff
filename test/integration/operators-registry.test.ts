// The operator wait and the image registry phase against the real API server, under the
// least-privilege identity. The registry Config is a singleton, so these tests run in order and
// each resets the cluster-scoped objects it used.
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { objectPath, PATHS } from '../../src/cluster/paths.ts';
import { untilObserved } from '../env/until.ts';
import { runAction, sharedControlPlane, startAction, whenLogged, type RunningAction } from './harness.ts';

const bed = sharedControlPlane();
const CONFIG = PATHS.registryConfig;
const PVCS = PATHS.registryPvcs;
const STABLE = { available: 'True', progressing: 'False', degraded: 'False' } as const;

afterEach(async () => {
  await bed.stopInstalls();
  // No pvc-protection controller runs here: drop the finalizer or the claim never goes away.
  const claims = await bed.cp.admin.request<{ items: Array<{ metadata: { name: string } }> }>('GET', PVCS);
  for (const claim of claims.items) {
    await bed.cp.admin.request('PATCH', objectPath(PVCS, claim.metadata.name), { body: { metadata: { finalizers: null } }, contentType: 'application/merge-patch+json' });
  }
  // 404: nothing of that kind is left, or the kind itself is gone (the last tests delete CRDs).
  for (const path of [PATHS.clusterOperators, PATHS.registryConfigs, PVCS]) {
    await bed.cp.admin.request('DELETE', path, { okStatuses: [200, 404] });
  }
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const get = (path: string): Promise<any> => bed.cp.admin.request('GET', path);
const opInputs = (extra: Record<string, string>) => ({ 'stable-period': '0s', 'operators-timeout': '60s', ...extra });

test('an operator degrades, then recovers: the clock restarts and the wait succeeds', { timeout: 120_000 }, async () => {
  // The degradation follows the action's first sight of every operator stable, the recovery its
  // report of the degradation: on a busy machine a script on a clock (1.5 s, 4 s) ran before the
  // action had looked, and it never saw the interruption.
  const running: { action?: RunningAction } = {};
  let recoveredAt = Infinity;
  const seen = (pattern: RegExp) => whenLogged(() => running.action, pattern);
  await bed.install({
    registry: false,
    operators: {
      scripted: {
        'op-steady': [{ atMs: 0, ...STABLE }],
        'op-flaky': [
          { atMs: 0, ...STABLE },
          { atMs: 0, after: seen(/all 2 operators stable after/), degraded: 'True', message: 'etcd member unhealthy' },
          { atMs: 0, after: () => seen(/op-flaky became degraded/)().then(() => (recoveredAt = Date.now())), ...STABLE },
        ],
      },
    },
  });
  running.action = startAction(bed.cp, opInputs({ 'stable-period': '5s' }));
  const run = await running.action.done;
  assert.equal(run.outputs.result, 'success', run.stdout);
  assert.equal(run.outputs['operators-stable'], 'true');
  assert.deepEqual(run.json('unstable-operators'), []);
  assert.match(run.stdout, /op-flaky became degraded: Degraded=True \(\w+\): etcd member unhealthy/);
  assert.match(run.stdout, /stability interrupted/);
  assert.ok(Date.now() - recoveredAt >= 5000, 'waited the full stable period after the recovery');
  assert.deepEqual(run.json('registry'), {});
  assert.match(run.summaryText, /All ClusterOperators stable/);
});

test('an operator that never recovers gives timeout, naming it with its message', { timeout: 120_000 }, async () => {
  await bed.install({
    registry: false,
    operators: {
      scripted: {
        'op-good': [{ atMs: 0, ...STABLE }],
        'op-broken': [{ atMs: 0, available: 'False', progressing: 'True', degraded: 'True', message: 'disk pressure on master-0 | <b>' }],
        'op-noisy': [{ atMs: 0, available: 'False', progressing: 'False', degraded: 'True', message: 'ignored by request' }],
      },
    },
  });
  const run = await runAction(bed.cp, opInputs({ 'operators-timeout': '5s', 'ignore-operators': 'op-noisy' }));
  assert.equal(run.exitCode, 1);
  assert.equal(run.outputs.result, 'timeout');
  assert.equal(run.outputs['operators-stable'], 'false');
  const unstable = run.json('unstable-operators');
  assert.deepEqual(unstable.map((o) => o.name), ['op-broken']);
  assert.equal(unstable[0]!.degraded, 'True');
  assert.match(run.stdout, /::error::ClusterOperators not stable.*op-broken.*disk pressure on master-0/);
  assert.match(run.summaryText, /op-broken/);
  assert.match(run.summaryText, /disk pressure on master-0 \| <b>/, 'the message shown as text');
  assert.match(run.summaryText, /Ignored: op-noisy/);
  // Diagnostics name the operator with its conditions, for actions/upload-artifact.
  assert.ok(run.outputs['diagnostics-path'], 'diagnostics-path set on failure');
  const operators = JSON.parse(run.diagnostics['operators.json']!);
  assert.deepEqual(operators.map((o: { name: string }) => o.name), ['op-broken']);
  assert.match(JSON.stringify(operators[0].conditions), /disk pressure on master-0/);
  assert.ok(!Object.values(run.diagnostics).some((text) => text.includes(bed.cp.actionToken)));
});

test('registry pvc with a created ReadWriteOnce claim: Managed, Recreate, 1 replica, Available; a re-run writes nothing', { timeout: 120_000 }, async () => {
  await bed.install({ registry: { rolloutMs: 1500 } });
  await bed.cp.admin.request('PATCH', CONFIG, { body: { spec: { replicas: 2 } }, contentType: 'application/merge-patch+json' });
  const inputs = opInputs({ 'registry-storage': 'pvc', 'registry-pvc-claim': 'registry-rwo', 'registry-pvc-size': '10Gi' });
  const run = await runAction(bed.cp, inputs);
  assert.equal(run.outputs.result, 'success', run.stdout);
  assert.deepEqual(run.json('registry'), { managementState: 'Managed', storage: 'pvc', claim: 'registry-rwo', rolloutStrategy: 'Recreate', replicas: 1, ready: true, changed: true });
  const config = await get(CONFIG);
  assert.equal(config.spec.managementState, 'Managed');
  assert.deepEqual(config.spec.storage.pvc, { claim: 'registry-rwo' });
  assert.equal(config.spec.rolloutStrategy, 'Recreate');
  assert.equal(config.spec.replicas, 1);
  assert.ok(config.status.conditions.some((c: { type: string; status: string }) => c.type === 'Available' && c.status === 'True'));
  const claim = await get(objectPath(PVCS, 'registry-rwo'));
  assert.deepEqual(claim.spec.accessModes, ['ReadWriteOnce']);
  assert.equal(claim.spec.resources.requests.storage, '10Gi');
  assert.match(run.summaryText, /Image registry/);

  const again = await runAction(bed.cp, inputs);
  assert.equal(again.outputs.result, 'success', again.stdout);
  assert.equal(again.json('registry').changed, false);
  assert.match(again.stdout, /nothing to change/);
  const configAfter = await get(CONFIG);
  assert.equal(configAfter.metadata.generation, config.metadata.generation, 'no spec write');
  assert.equal((await get(objectPath(PVCS, 'registry-rwo'))).metadata.resourceVersion, claim.metadata.resourceVersion, 'claim untouched');
});

test('registry emptyDir from Removed', { timeout: 120_000 }, async () => {
  await bed.install({ registry: { rolloutMs: 500 } });
  const run = await runAction(bed.cp, opInputs({ 'registry-storage': 'emptyDir' }));
  assert.equal(run.outputs.result, 'success', run.stdout);
  assert.deepEqual(run.json('registry'), { managementState: 'Managed', storage: 'emptyDir', claim: '', rolloutStrategy: 'RollingUpdate', replicas: 1, ready: true, changed: true });
  assert.deepEqual((await get(CONFIG)).status.storage, { emptyDir: {} });
});

test('registry pvc with an empty claim: the operator creates image-registry-storage', { timeout: 120_000 }, async () => {
  await bed.install({ registry: { rolloutMs: 500 } });
  const run = await runAction(bed.cp, opInputs({ 'registry-storage': 'pvc' }));
  assert.equal(run.outputs.result, 'success', run.stdout);
  assert.deepEqual(run.json('registry'), { managementState: 'Managed', storage: 'pvc', claim: 'image-registry-storage', rolloutStrategy: 'RollingUpdate', replicas: 1, ready: true, changed: true });
  const claim = await get(objectPath(PVCS, 'image-registry-storage'));
  assert.ok('imageregistry.openshift.io' in claim.metadata.annotations);
});

test('an unannotated image-registry-storage claim is refused before any write', { timeout: 120_000 }, async () => {
  await bed.install({ registry: { rolloutMs: 500 } });
  await bed.cp.admin.request('POST', PVCS, {
    body: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'image-registry-storage' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } },
  });
  const before = await get(CONFIG);
  const run = await runAction(bed.cp, opInputs({ 'registry-storage': 'pvc' }));
  assert.equal(run.outputs.result, 'error');
  assert.match(run.stdout, /::error::Input 'registry-pvc-claim': .*not created by the registry operator/);
  assert.equal((await get(CONFIG)).metadata.generation, before.metadata.generation);
});

test('a Config that never appears is reported at registry-timeout, not waited on for an hour', { timeout: 60_000 }, async () => {
  await bed.install({ registry: { capabilityDisabled: true } });
  const started = Date.now();
  const run = await runAction(bed.cp, opInputs({ 'registry-storage': 'emptyDir', 'registry-timeout': '4s', 'wait-for-operators': 'false' }));
  assert.equal(run.outputs.result, 'timeout');
  assert.equal(run.outputs['operators-stable'], 'true', 'not requested, so true (CONTRACT.md)');
  assert.match(run.stdout, /::error::.*Config "cluster" did not appear/);
  assert.ok(Date.now() - started < 20_000);
});

test('a cluster without the registry Config kind (capability disabled) fails at once', { timeout: 60_000 }, async () => {
  await bed.cp.admin.request('DELETE', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/configs.imageregistry.operator.openshift.io');
  await untilObserved(() => bed.cp.admin.requestRaw('GET', PATHS.registryConfigs), (r) => r.status === 404, { message: 'the Config kind gone', timeoutMs: 10_000 });
  const started = Date.now();
  const run = await runAction(bed.cp, opInputs({ 'registry-storage': 'emptyDir', 'registry-timeout': '10m', 'wait-for-operators': 'false' }));
  assert.equal(run.outputs.result, 'error');
  assert.match(run.stdout, /ImageRegistry capability is disabled/);
  assert.ok(Date.now() - started < 10_000);
});

test('a cluster without the ClusterOperator kind: a clear error, not a hang', { timeout: 60_000 }, async () => {
  await bed.cp.admin.request('DELETE', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/clusteroperators.config.openshift.io');
  await untilObserved(() => bed.cp.admin.requestRaw('GET', PATHS.clusterOperators), (r) => r.status === 404, { message: 'the ClusterOperator kind gone', timeoutMs: 10_000 });
  const run = await runAction(bed.cp, opInputs({}));
  assert.equal(run.outputs.result, 'error');
  assert.match(run.stdout, /::error::.*no config\.openshift\.io ClusterOperator kind.*wait-for-operators: false/);
});
