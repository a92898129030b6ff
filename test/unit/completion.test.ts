// The completion signals as pure predicates: ClusterVersion complete, capabilities, pools rolled out.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ClusterVersionInfo, MachineConfigPoolInfo, NodeInfo } from '../../src/cluster/objects.ts';
import { capabilityEnabled, clusterVersionState, isInstallComplete, operatorsOfDisabledCapabilities, whatClusterVersionLacks } from '../../src/completion/cluster-version.ts';
import { isRolledOut, poolState, whatPoolLacks } from '../../src/completion/pools.ts';

const cv = (conditions: Record<string, string>, opts: { state?: string; enabled?: string[]; known?: string[]; message?: string } = {}): ClusterVersionInfo => ({
  desiredVersion: '4.21.3',
  history: [{ state: opts.state ?? 'Completed', version: '4.21.3' }],
  conditions: Object.entries(conditions).map(([type, status]) => ({ type, status, ...(opts.message ? { message: `${type}: ${opts.message}` } : {}) })),
  ...(opts.known ? { capabilities: { enabled: opts.enabled ?? [], known: opts.known } } : {}),
});
const done = { Available: 'True', Failing: 'False', Progressing: 'False' };

test('ClusterVersion: complete only with Available=True, Failing=False, Progressing=False and a Completed newest entry', () => {
  assert.equal(isInstallComplete(cv(done)), true);
  const cases: Array<[string, ClusterVersionInfo]> = [
    ['still progressing', cv({ ...done, Progressing: 'True' })],
    ['failing', cv({ ...done, Failing: 'True' })],
    ['not available', cv({ ...done, Available: 'False' })],
    ['Failing missing', cv({ Available: 'True', Progressing: 'False' })],
    ['Progressing unknown', cv({ ...done, Progressing: 'Unknown' })],
    ['history Partial', cv(done, { state: 'Partial' })],
    ['no history', { ...cv(done), history: [] }],
  ];
  for (const [label, value] of cases) assert.equal(isInstallComplete(value), false, label);
});

test('ClusterVersion: the output state and what it lacks name the failing message first', () => {
  const failing = cv({ Available: 'True', Failing: 'True', Progressing: 'True' }, { state: 'Partial', message: 'Cluster operator monitoring is degraded' });
  assert.deepEqual(clusterVersionState(failing), {
    version: '4.21.3', completed: false, available: true, progressing: true, failing: true, message: 'Failing: Cluster operator monitoring is degraded',
  });
  assert.equal(whatClusterVersionLacks(failing), 'ClusterVersion 4.21.3 Failing, Progressing, history Partial: Failing: Cluster operator monitoring is degraded');
  assert.equal(whatClusterVersionLacks(cv(done)), '');
  assert.equal(whatClusterVersionLacks(undefined), 'ClusterVersion version not found');
  assert.equal(clusterVersionState(cv({ Available: 'True' })).message, 'Progressing condition missing');
});

test('capabilities: disabled only when known and not enabled; their operators are not waited for', () => {
  const noRegistry = cv(done, { known: ['ImageRegistry', 'Console', 'MachineAPI'], enabled: ['Console'] });
  assert.equal(capabilityEnabled(noRegistry, 'ImageRegistry'), false);
  assert.equal(capabilityEnabled(noRegistry, 'Console'), true);
  assert.equal(capabilityEnabled(noRegistry, 'SomethingNew'), true, 'unknown to the release: not optional');
  assert.equal(capabilityEnabled(cv(done), 'ImageRegistry'), true, 'no capabilities reported (before 4.11)');
  assert.equal(capabilityEnabled(undefined, 'ImageRegistry'), true);
  assert.deepEqual(operatorsOfDisabledCapabilities(noRegistry), ['cluster-autoscaler', 'control-plane-machine-set', 'image-registry', 'machine-api']);
  assert.deepEqual(operatorsOfDisabledCapabilities(cv(done)), []);
});

const pool = (over: Partial<MachineConfigPoolInfo> = {}, conditions: Record<string, string> = { Updated: 'True', Degraded: 'False' }): MachineConfigPoolInfo => ({
  name: 'worker', generation: 2, observedGeneration: 2, machineCount: 3, updatedMachineCount: 3, readyMachineCount: 3, nodeSelector: {},
  conditions: Object.entries(conditions).map(([type, status]) => ({ type, status, ...(type === 'Degraded' && status === 'True' ? { message: 'Node worker-1 is reporting: "unexpected on-disk state"' } : {}) })),
  ...over,
});
const node = (name: string, labels: Record<string, string>): NodeInfo => ({ name, ready: true, addresses: [], labels });
const workers = ['worker-0', 'worker-1', 'worker-2'].map((n) => node(n, { 'node-role.kubernetes.io/worker': '' }));

test('pools: rolled out when Updated, not Degraded, every machine updated and ready, generation observed, every selected Node counted', () => {
  assert.equal(isRolledOut(pool(), workers), true);
  assert.equal(isRolledOut(pool(), [...workers, node('master-0', { 'node-role.kubernetes.io/master': '' })]), true, 'other roles do not count');
  const cases: Array<[string, MachineConfigPoolInfo | undefined, NodeInfo[]]> = [
    ['missing', undefined, workers],
    ['updating', pool({ updatedMachineCount: 2 }, { Updated: 'False', Degraded: 'False' }), workers],
    ['counts behind though Updated', pool({ readyMachineCount: 2 }), workers],
    ['degraded', pool({}, { Updated: 'True', Degraded: 'True' }), workers],
    ['Degraded missing', pool({}, { Updated: 'True' }), workers],
    ['old generation', pool({ observedGeneration: 1 }), workers],
    ['a fourth worker joined and the controller has not counted it', pool(), [...workers, node('worker-3', { 'node-role.kubernetes.io/worker': '' })]],
    ['spec.nodeSelector selects more Nodes', pool({ nodeSelector: { 'pool': 'gpu' } }), ['g-0', 'g-1', 'g-2', 'g-3'].map((n) => node(n, { pool: 'gpu' }))],
  ];
  for (const [label, value, nodes] of cases) assert.equal(isRolledOut(value, nodes), false, label);
});

test('pools: output state and what a pool lacks', () => {
  assert.deepEqual(poolState('worker', pool({ updatedMachineCount: 2, readyMachineCount: 1 }, { Updated: 'False', Degraded: 'False' })), {
    name: 'worker', updated: false, degraded: false, machineCount: 3, updatedMachineCount: 2, readyMachineCount: 1,
  });
  assert.deepEqual(poolState('infra', undefined), { name: 'infra', updated: false, degraded: false, machineCount: 0, updatedMachineCount: 0, readyMachineCount: 0 });
  assert.equal(whatPoolLacks('worker', pool({ updatedMachineCount: 2, readyMachineCount: 1 }, { Updated: 'False', Degraded: 'False' }), workers), 'MachineConfigPool worker 2/3 updated, 1/3 ready');
  assert.equal(whatPoolLacks('worker', pool({}, { Updated: 'False', Degraded: 'True' }), workers), 'MachineConfigPool worker Degraded: Node worker-1 is reporting: "unexpected on-disk state"');
  assert.equal(whatPoolLacks('infra', undefined, workers), 'MachineConfigPool infra not found');
  assert.equal(whatPoolLacks('worker', pool({ observedGeneration: 1 }), workers), 'MachineConfigPool worker generation 2 not observed yet');
  assert.equal(whatPoolLacks('worker', pool(), [...workers, node('worker-3', { 'node-role.kubernetes.io/worker': '' })]), 'MachineConfigPool worker counts 3 of the 4 Nodes it selects');
  assert.equal(whatPoolLacks('worker', pool(), workers), '');
});
