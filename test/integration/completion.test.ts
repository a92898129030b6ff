// OpenShift's own completion signals against the real API server with OpenShift's CRDs: the
// ClusterVersion `version`, the MachineConfigPools, and the ImageRegistry capability. The
// ClusterVersion is a singleton, so these tests run in order and each deletes it afterwards.
import assert from 'node:assert/strict';
import { after, afterEach, test } from 'node:test';
import { PATHS } from '../../src/cluster/paths.ts';
import { auditLog } from '../env/audit.ts';
import { ACTION_USER } from '../env/controlplane.ts';
import { KNOWN_CAPABILITIES, completesAfter } from '../sim/cluster-version.ts';
import { runAction, sharedControlPlane, startAction, whenLogged, type RunningAction } from './harness.ts';

// "Writes nothing" is about the action's identity: the simulator keeps writing meanwhile (the
// pool operator publishes the status of the Nodes earlier tests left), so the count of all writes
// (ControlPlane.writes()) took a pool status PATCH landing during the run for the action's.
const audit = auditLog();
const bed = sharedControlPlane({ apiServerArgs: audit.apiServerArgs });
after(() => audit.remove());
/** The action's requests since `mark` that stored something, and how many it made in all. */
const actionRequests = (mark: number) => ({ writes: audit.requests({ user: ACTION_USER, since: mark, writes: true }).map((r) => `${r.verb} ${r.uri} ${r.code}`), all: audit.requests({ user: ACTION_USER, since: mark }).length });
afterEach(async () => {
  await bed.stopInstalls();
  for (const path of [PATHS.clusterVersions, PATHS.clusterOperators, PATHS.machineConfigPools, PATHS.registryConfigs]) {
    await bed.cp.admin.request('DELETE', path, { okStatuses: [200, 404] });
  }
});

const stableOperators = { converging: { names: ['dns', 'network'], withinMs: 300, seed: 3 } };

test('a ClusterVersion still Progressing: the action waits until it completes, then succeeds', { timeout: 120_000 }, async () => {
  // Completed once the action has seen every operator stable (its gate then waits on the
  // ClusterVersion alone), not 6 s on a clock: on a busy machine the action had not looked by then.
  const running: { action?: RunningAction } = {};
  const [installing, complete] = completesAfter(0);
  await bed.install({
    operators: stableOperators,
    clusterVersion: { version: '4.21.3', steps: [installing!, { ...complete!, after: whenLogged(() => running.action, /all 2 operators stable after/) }] },
  });
  running.action = startAction(bed.cp, { 'stable-period': '0s', 'operators-timeout': '60s' });
  const run = await running.action.done;
  assert.equal(run.outputs.result, 'success', run.stdout);
  assert.deepEqual(run.json('cluster-version'), {
    version: '4.21.3', completed: true, available: true, progressing: false, failing: false, message: 'Done applying 4.21.3',
  }, 'did not open the gate before the ClusterVersion completed');
  assert.equal(run.outputs['operators-stable'], 'true');
  assert.match(run.stdout, /waiting for every ClusterOperator to be stable for 0s, ClusterVersion complete/);
  assert.match(run.summaryText, /\*\*OpenShift 4\.21\.3\*\*: install complete\./);
  assert.deepEqual(run.json('machine-config-pools'), []);
});

test('a ClusterVersion Failing with a message: timeout, the message in the failure line and the summary', { timeout: 120_000 }, async () => {
  const message = 'Cluster operator monitoring is not available';
  await bed.install({
    operators: stableOperators,
    clusterVersion: { steps: [{ atMs: 0, available: 'True', progressing: 'True', failing: 'True', completed: false, message }] },
  });
  const run = await runAction(bed.cp, { 'stable-period': '0s', 'operators-timeout': '6s' });
  assert.equal(run.exitCode, 1);
  assert.equal(run.outputs.result, 'timeout');
  assert.equal(run.outputs['operators-stable'], 'false');
  const cv = run.json('cluster-version');
  assert.equal(cv.failing, true);
  assert.equal(cv.message, message);
  assert.match(run.stdout, new RegExp(`::error::Install not complete within operators-timeout 6s: ClusterVersion 4\\.21\\.0 Failing, Progressing, history Partial: ${message}`));
  assert.match(run.summaryText, new RegExp(`\\*\\*Blocked by:\\*\\* Install not complete .*${message}`));
  assert.match(run.summaryText, /\*\*OpenShift 4\.21\.0\*\*: Failing \(Cluster operator monitoring is not available\)/);
});

test('a worker pool that finishes rolling out after the nodes are Ready: the gate opens only then', { timeout: 120_000 }, async () => {
  await bed.install({
    controlPlaneNodes: 1,
    operators: stableOperators,
    workers: [{ name: 'p-worker-0', addresses: ['10.3.0.10'] }, { name: 'p-worker-1', addresses: ['10.3.0.11'], keyType: 'rsa' }],
    pools: [{ name: 'worker', rolloutMs: 5000 }],
  });
  const run = await runAction(bed.cp, { nodes: 'p-worker-0\np-worker-1', 'machine-config-pools': 'worker', 'stable-period': '0s', 'operators-timeout': '60s' });
  assert.equal(run.outputs.result, 'success', run.stdout);
  assert.ok(run.json('nodes').every((n) => n.ready));
  assert.deepEqual(run.json('machine-config-pools'), [
    { name: 'worker', updated: true, degraded: false, machineCount: 2, updatedMachineCount: 2, readyMachineCount: 2 },
  ]);
  // The summary's timeline table: the last column is when the row got there (+12.3s, +1m02.5s).
  const reached = (row: string) => {
    const line = run.summaryText.split('\n').findLast((l) => l.startsWith(`| ${row} |`)) ?? ''; // the Nodes table comes first
    const [, minutes, seconds] = /\+(?:(\d+)m)?([\d.]+)s[^|]*\|\s*$/.exec(line) ?? [];
    assert.ok(seconds, `${row} in the timeline table:\n${run.summary.slice(run.summary.indexOf('### Timeline'), run.summary.indexOf('```mermaid'))}`);
    return Number(minutes ?? 0) * 60 + Number(seconds);
  };
  assert.ok(reached('ClusterOperators') - reached('p-worker-1') >= 4, 'the gate waited for the pool\'s 5 s rollout after the last node was Ready');
  assert.match(run.summaryText, /MachineConfigPool worker \| yes \| 2\/2 updated, 2\/2 ready/);
  assert.match(run.summaryText, /Finished [\d.ms]+ after the first approval\./);
});

test('a pool that does not roll out: timeout naming the pool and its counts', { timeout: 120_000 }, async () => {
  await bed.install({ operators: stableOperators, pools: [{ name: 'worker', degraded: 'Node q-worker-0 is reporting: "unexpected on-disk state"' }] });
  const run = await runAction(bed.cp, { 'machine-config-pools': 'worker, infra', 'stable-period': '0s', 'operators-timeout': '5s' });
  assert.equal(run.outputs.result, 'timeout');
  assert.match(run.stdout, /::error::Install not complete within operators-timeout 5s: MachineConfigPool worker Degraded: Node q-worker-0 is reporting.*; MachineConfigPool infra not found/);
  assert.deepEqual(run.json('machine-config-pools').map((p) => [p.name, p.updated, p.degraded]), [['worker', false, true], ['infra', false, false]]);
});

test('without the ImageRegistry capability: registry-storage pvc fails before any write; keep succeeds and reports no registry', { timeout: 120_000 }, async () => {
  const sim = await bed.install({
    controlPlaneNodes: 1,
    registry: { capabilityDisabled: true },
    operators: { ...stableOperators, scripted: { 'image-registry': [{ atMs: 0, available: 'False', progressing: 'False', degraded: 'True', message: 'no registry on this cluster' }] } },
    clusterVersion: { enabledCapabilities: KNOWN_CAPABILITIES.filter((c) => c !== 'ImageRegistry'), steps: completesAfter(0) },
    workers: [{ name: 'r-worker-0', addresses: ['10.3.1.10'] }],
  });
  await Promise.all(sim.operators.map((o) => o.done));
  const mark = audit.mark();
  const refused = await runAction(bed.cp, { nodes: 'r-worker-0', 'registry-storage': 'pvc', 'registry-pvc-size': '100Gi', 'stable-period': '0s' });
  assert.equal(refused.exitCode, 1);
  assert.equal(refused.outputs.result, 'error');
  assert.match(refused.stdout, /::error::Input 'registry-storage': pvc needs the image registry, but this cluster was installed without the ImageRegistry capability.*Accepted: keep on such a cluster; or enable the capability first/);
  const refusedRequests = actionRequests(mark);
  assert.ok(refusedRequests.all > 0, 'the audit log shows the action\'s requests');
  assert.deepEqual(refusedRequests.writes, [], 'nothing written: no approval, no claim, no patch');
  assert.deepEqual(refused.json('approved-csrs'), []);

  const kept = await runAction(bed.cp, { nodes: 'r-worker-0', 'registry-storage': 'keep', 'stable-period': '0s', 'operators-timeout': '30s' });
  assert.equal(kept.outputs.result, 'success', kept.stdout);
  assert.match(kept.stdout, /the ImageRegistry capability is disabled: this cluster has no image registry \(not installed\)/);
  assert.match(kept.summaryText, /Not installed: the cluster has the ImageRegistry capability disabled\./);
  assert.deepEqual(kept.json('registry'), {});
  assert.deepEqual(kept.json('unstable-operators'), [], 'the degraded image-registry operator of a disabled capability is not waited for');
});

test('dry-run reports the ClusterVersion and the pools and writes nothing', { timeout: 120_000 }, async () => {
  const sim = await bed.install({
    controlPlaneNodes: 1,
    operators: stableOperators,
    clusterVersion: { steps: completesAfter(60_000) },
    workers: [{ name: 's-worker-0', addresses: ['10.3.2.10'] }],
    pools: [{ name: 'worker' }],
  });
  await Promise.all([sim.clusterVersion!.started, ...sim.operators.map((o) => o.done)]);
  const mark = audit.mark();
  const run = await runAction(bed.cp, { 'dry-run': 'true', nodes: 's-worker-0', 'machine-config-pools': 'worker', 'registry-storage': 'keep', 'stable-period': '0s' });
  assert.equal(run.outputs.result, 'success', run.stdout);
  const requests = actionRequests(mark);
  assert.ok(requests.all > 0, 'the audit log shows the action\'s requests');
  assert.deepEqual(requests.writes, [], 'a dry run writes nothing');
  const cv = run.json('cluster-version');
  assert.deepEqual([cv.completed, cv.progressing], [false, true]);
  assert.deepEqual(run.json('machine-config-pools').map((p) => p.name), ['worker']);
  assert.match(run.summaryText, /### Completion/);
  assert.match(run.summaryText, /ClusterVersion 4\.21\.0 \| no \|/);
});
