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

// The calls that configure the registry end at the registry deadline (registry-timeout): a fake
// gateway records the limits each call gets and answers as a server that never succeeds would.
const { configureRegistry } = await import('../../src/registry/configure.ts');
const { DeadlineError } = await import('../../src/errors.ts');
const { ClusterError } = await import('../../src/cluster/errors.ts');
const { silentLog } = await import('../../src/log.ts');
type Limits = import('../../src/cluster/retry.ts').CallLimits;
type Gateway = import('../../src/cluster/gateway.ts').ClusterGateway;

/** Every call is answered by `answer` (given the call's name and limits); the limits are recorded. */
function fakeGateway(answer: (call: string, limits: Limits) => Promise<unknown>) {
  const seen: Array<[string, Limits]> = [];
  const record = (call: string) => (limits: Limits) => (seen.push([call, limits]), answer(call, limits));
  const gateway = {
    readPvc: (_name: string, limits: Limits) => record('readPvc')(limits).then(() => undefined),
    createPvc: (_claim: unknown, limits: Limits) => record('createPvc')(limits),
    patchRegistryConfig: (_patch: unknown, limits: Limits) => record('patchRegistryConfig')(limits),
  } as unknown as Gateway;
  return { gateway, seen };
}
/** A server that takes the request and never answers: only the call's signal ends it. */
const hangs = (_call: string, limits: Limits) =>
  new Promise((_resolve, reject) => limits.signal!.addEventListener('abort', () => reject(new ClusterError('patch imageregistry Config cluster', undefined, 'This operation was aborted')), { once: true }));
/** A server answering 500 until the deadline, as withRetry gives up then (no retry past limits.deadline). */
const errorsUntilDeadline = async (call: string, limits: Limits) => {
  // Until Date.now() has reached it: a timer may fire a millisecond before the wall clock does.
  while (Date.now() < limits.deadline!) await new Promise((r) => setTimeout(r, limits.deadline! - Date.now() + 1));
  throw new ClusterError(call === 'patchRegistryConfig' ? 'patch imageregistry Config cluster' : call, 500, 'Internal error occurred: failed calling webhook', 'InternalError');
};

const cases: Array<{ name: string; storage: Partial<RegistryRequest>; answer: (call: string, limits: Limits) => Promise<unknown>; expect: RegExp; timeout: boolean }> = [
  { name: 'a patch the server never answers', storage: { storage: 'emptyDir' }, answer: hangs, expect: /^Image registry not configured before registry-timeout: patch imageregistry Config cluster: no answer from the API server\.$/, timeout: true },
  { name: 'a patch answered 500 until the deadline', storage: { storage: 'emptyDir' }, answer: errorsUntilDeadline, expect: /^Image registry not configured before registry-timeout: patch imageregistry Config cluster failed: HTTP 500 InternalError: Internal error occurred: failed calling webhook\.$/, timeout: true },
  { name: 'a claim read the server never answers', storage: { storage: 'pvc', size: '10Gi' }, answer: hangs, expect: /registry-timeout: read PersistentVolumeClaim openshift-image-registry\/image-registry-storage: no answer/, timeout: true },
  { name: 'a claim create the server never answers', storage: { storage: 'pvc', size: '10Gi' }, answer: (call, limits) => (call === 'readPvc' ? Promise.resolve(undefined) : hangs(call, limits)), expect: /registry-timeout: create PersistentVolumeClaim openshift-image-registry\/image-registry-storage: no answer/, timeout: true },
  { name: 'a patch refused before the deadline stays an error', storage: { storage: 'emptyDir' }, answer: () => Promise.reject(new ClusterError('patch imageregistry Config cluster', 422, 'spec.storage: Invalid value', 'Invalid')), expect: /HTTP 422 Invalid/, timeout: false },
];
for (const c of cases) {
  test(`registry calls within registry-timeout: ${c.name}`, async () => {
    const deadline = Date.now() + 150;
    const { gateway, seen } = fakeGateway(c.answer);
    const configured = configureRegistry(gateway, request(c.storage), removed, { dryRun: false, log: silentLog, deadline });
    const error = await configured.then(() => assert.fail('configured'), (e: unknown) => e as Error);
    assert.match(error.message, c.expect);
    assert.equal(error instanceof DeadlineError, c.timeout, `${error.name}: ${error.message}`);
    assert.ok(seen.length > 0 && seen.every(([, limits]) => limits.deadline === deadline && limits.signal instanceof AbortSignal), 'every call got the deadline and a signal');
  });
}

test('registry calls within registry-timeout: none is made once the deadline has passed', async () => {
  const { gateway, seen } = fakeGateway(hangs);
  await assert.rejects(configureRegistry(gateway, request({ storage: 'emptyDir' }), removed, { dryRun: false, log: silentLog, deadline: Date.now() - 1 }), (e: Error) => e instanceof DeadlineError && /patch imageregistry Config cluster not attempted/.test(e.message));
  assert.equal(seen.length, 0);
});
