import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PvcInfo, RegistryConfig } from '../../src/cluster/objects.ts';
import { planRegistry, registryReadiness, type RegistryPlan } from '../../src/registry/plan.ts';
import type { RegistryRequest } from '../../src/settings/settings.ts';

const removed: RegistryConfig = {
  resourceVersion: '5',
  generation: 1,
  spec: { managementState: 'Removed', replicas: 1, storage: {} },
  status: { observedGeneration: 1, conditions: [{ type: 'Available', status: 'True', reason: 'Removed' }] },
};
const request = (r: Partial<RegistryRequest>): RegistryRequest => ({
  storage: 'pvc', claim: '', size: '', accessMode: 'ReadWriteOnce', storageClass: '', rolloutStrategy: 'auto', replicas: undefined, timeoutMs: 1, ...r,
});
const pvc = (name: string, mode: string, annotated = false): PvcInfo => ({
  name, accessModes: [mode], annotations: annotated ? { 'imageregistry.openshift.io': 'true' } : {}, phase: 'Pending',
});
const applied = (plan: RegistryPlan) => {
  assert.equal(plan.kind, 'apply', plan.kind === 'refuse' ? plan.message : '');
  return plan as Extract<RegistryPlan, { kind: 'apply' }>;
};
const refused = (plan: RegistryPlan, input: string, words: RegExp) => {
  assert.equal(plan.kind, 'refuse');
  assert.ok(plan.kind === 'refuse' && plan.input === input && words.test(plan.message), JSON.stringify(plan));
};

test('emptyDir from Removed: state and storage in one patch', () => {
  const plan = applied(planRegistry(request({ storage: 'emptyDir' }), removed, undefined));
  assert.deepEqual(plan.patch, { spec: { managementState: 'Managed', storage: { emptyDir: {} } } });
  assert.equal(plan.target.storage, 'emptyDir');
});

test('emptyDir with more than one replica is refused; a current 2 is lowered to 1', () => {
  refused(planRegistry(request({ storage: 'emptyDir', replicas: 2 }), removed, undefined), 'registry-replicas', /own storage/);
  const plan = applied(planRegistry(request({ storage: 'emptyDir' }), { ...removed, spec: { ...removed.spec, replicas: 2 } }, undefined));
  assert.equal((plan.patch!.spec as { replicas: number }).replicas, 1);
});

test('pvc created by the action, ReadWriteOnce: Recreate and one replica', () => {
  const plan = applied(planRegistry(request({ claim: 'registry', size: '100Gi' }), { ...removed, spec: { ...removed.spec, replicas: 2 } }, undefined));
  assert.deepEqual(plan.createClaim, { name: 'registry', size: '100Gi', accessMode: 'ReadWriteOnce', storageClass: '' });
  assert.deepEqual(plan.patch, { spec: { managementState: 'Managed', storage: { pvc: { claim: 'registry' } }, rolloutStrategy: 'Recreate', replicas: 1 } });
});

test('an existing ReadWriteOnce claim with RollingUpdate or 2 replicas is refused', () => {
  refused(planRegistry(request({ claim: 'c', rolloutStrategy: 'RollingUpdate' }), removed, pvc('c', 'ReadWriteOnce')), 'registry-rollout-strategy', /deadlock/);
  refused(planRegistry(request({ claim: 'c', replicas: 2 }), removed, pvc('c', 'ReadWriteOnce')), 'registry-replicas', /1 replica/);
});

test('a ReadWriteMany claim keeps rollout and takes the requested replicas', () => {
  const plan = applied(planRegistry(request({ claim: 'shared', replicas: 2 }), removed, pvc('shared', 'ReadWriteMany')));
  assert.deepEqual(plan.patch, { spec: { managementState: 'Managed', storage: { pvc: { claim: 'shared' } }, replicas: 2 } });
  assert.equal(plan.target.rolloutStrategy, 'RollingUpdate');
});

test('empty claim: the operator default; an unannotated image-registry-storage is refused', () => {
  const plan = applied(planRegistry(request({}), removed, undefined));
  assert.deepEqual(plan.patch, { spec: { managementState: 'Managed', storage: { pvc: { claim: '' } } } });
  assert.equal(plan.target.claim, 'image-registry-storage');
  refused(planRegistry(request({}), removed, pvc('image-registry-storage', 'ReadWriteMany')), 'registry-pvc-claim', /not created by the registry operator/);
  applied(planRegistry(request({}), removed, pvc('image-registry-storage', 'ReadWriteMany', true)));
});

test('a named claim that does not exist and no size is refused', () => {
  refused(planRegistry(request({ claim: 'missing' }), removed, undefined), 'registry-pvc-claim', /does not exist/);
});

test('switching storage clears the old key with null', () => {
  const onEmptyDir: RegistryConfig = { ...removed, spec: { managementState: 'Managed', replicas: 1, storage: { emptyDir: {}, managementState: 'Managed' } } };
  const plan = applied(planRegistry(request({ claim: 'c' }), onEmptyDir, pvc('c', 'ReadWriteMany')));
  assert.deepEqual(plan.patch, { spec: { storage: { emptyDir: null, pvc: { claim: 'c' } } } });
});

test('a configured registry needs no patch, including the operator rewriting an empty claim', () => {
  const configured: RegistryConfig = {
    ...removed,
    spec: { managementState: 'Managed', replicas: 1, rolloutStrategy: 'Recreate', storage: { pvc: { claim: 'image-registry-storage' }, managementState: 'Managed' } },
  };
  const again = applied(planRegistry(request({}), configured, pvc('image-registry-storage', 'ReadWriteOnce', true)));
  assert.equal(again.patch, undefined);
  assert.equal(again.createClaim, undefined);
  assert.equal(applied(planRegistry(request({ storage: 'emptyDir' }), { ...removed, spec: { managementState: 'Managed', replicas: 1, storage: { emptyDir: {} } } }, undefined)).patch, undefined);
});

test('readiness: observed generation, requested storage, Available, not Progressing, not Removed', () => {
  const target = { managementState: 'Managed' as const, storage: 'pvc' as const, claim: 'image-registry-storage', rolloutStrategy: 'Recreate', replicas: 1 };
  const base: RegistryConfig = {
    ...removed,
    generation: 2,
    status: {
      observedGeneration: 2,
      storage: { pvc: { claim: 'image-registry-storage' } },
      conditions: [
        { type: 'Available', status: 'True' },
        { type: 'Progressing', status: 'False' },
        { type: 'Degraded', status: 'False' },
        { type: 'Removed', status: 'False' },
      ],
    },
  };
  assert.equal(registryReadiness(base, target).ready, true);
  assert.match(registryReadiness({ ...base, status: { ...base.status, observedGeneration: 1 } }, target).waitingFor, /generation 2/);
  assert.match(registryReadiness({ ...base, status: { ...base.status, storage: { emptyDir: {} } } }, target).waitingFor, /status.storage/);
  const removedCondition = { ...base, status: { ...base.status, conditions: [{ type: 'Available', status: 'True', reason: 'Removed' }, { type: 'Removed', status: 'True' }] } };
  assert.equal(registryReadiness(removedCondition, target).ready, false);
  const progressing = { ...base, status: { ...base.status, conditions: [{ type: 'Available', status: 'True' }, { type: 'Progressing', status: 'True', message: 'rolling' }] } };
  assert.match(registryReadiness(progressing, target).waitingFor, /rollout/);
});
