// The report of a run, assembled from the phases' events and the live watches (finish/progress.ts):
// what holds before anything runs, the registry's story in the order told, the operators as watched,
// and the timeline built once, at the end.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ClusterOperatorInfo } from '../../src/cluster/objects.ts';
import { findingsOf, RunProgress, type ApproverView, type RunEvent } from '../../src/finish/progress.ts';
import { outstandingWork } from '../../src/report/failure.ts';
import { newReport, toOutputs } from '../../src/report/report.ts';

const target = { managementState: 'Managed', storage: 'pvc', claim: 'image-registry-storage', rolloutStrategy: 'Recreate', replicas: 1 } as const;
const operator = (name: string, degraded: boolean): ClusterOperatorInfo => ({
  name,
  conditions: [
    { type: 'Available', status: 'True', reason: '', message: '' },
    { type: 'Progressing', status: 'False', reason: '', message: '' },
    { type: 'Degraded', status: degraded ? 'True' : 'False', reason: degraded ? 'Broken' : '', message: degraded ? 'pods crash' : '' },
  ],
});

function approver(done: boolean): ApproverView & { missingCalls: number } {
  return {
    missingCalls: 0,
    approvedCsrs: () => ['csr-a'],
    requestedDurations: () => [],
    refusedCsrs: () => [],
    nodeStatuses: () => [{ name: 'worker-0', ready: done, clientApproved: true, servingIssued: done, clientCertificates: 1 }],
    allDone: () => done,
    missing() {
      this.missingCalls++;
      return done ? [] : [{ node: 'worker-0', lacks: 'serving certificate not issued' }];
    },
    timeline: [
      { at: 30, node: 'worker-0', event: 'ready' },
      { at: 10, node: 'worker-0', event: 'client approved' },
    ],
  };
}

test('before anything runs: a gate not awaited holds, one awaited does not; a renewal run says neither', () => {
  const notAwaited = findingsOf([{ kind: 'awaiting', nodes: false, operators: false }], {}, true);
  assert.equal(notAwaited.nodesReady, true);
  assert.equal(notAwaited.operatorsStable, true);
  const awaited = findingsOf([{ kind: 'awaiting', nodes: true, operators: true }], {}, true);
  assert.equal(awaited.nodesReady, false);
  assert.equal(awaited.operatorsStable, false);
  const renewal = findingsOf([], {}, true);
  assert.deepEqual({ ...newReport(0, false), ...renewal }, newReport(0, false), 'a run that found nothing reports as newReport');
});

test('the registry: planned, configured, then its readiness as last told', () => {
  const events: RunEvent[] = [
    { kind: 'registry-target', target: { ...target, rolloutStrategy: 'RollingUpdate' }, changed: false },
    { kind: 'registry-target', target, changed: true },
    { kind: 'registry-readiness', readiness: { ready: false, waitingFor: 'rollout: Progressing=True' } },
  ];
  const waiting = findingsOf(events, {}, false);
  assert.deepEqual(waiting.registry, { ...target, ready: false, changed: true });
  assert.equal(waiting.registryWaitingFor, 'rollout: Progressing=True');
  const ready = findingsOf([...events, { kind: 'registry-readiness', readiness: { ready: true, waitingFor: '' } }], {}, false);
  assert.equal(ready.registry?.ready, true);
  assert.equal(ready.registryWaitingFor, '');
  assert.equal(findingsOf([{ kind: 'no-registry' }], {}, false).registryInstalled, false);
  assert.equal(toOutputs({ ...newReport(0, false), ...ready }).registry, JSON.stringify({ ...target, ready: true, changed: true }));
});

test('the operators as watched: unstable with their objects, ignored, counts; the verdict from the wait', () => {
  const operators = [operator('dns', false), operator('monitoring', true), operator('insights', true)];
  const findings = findingsOf([{ kind: 'awaiting', nodes: false, operators: true }], { operators: { values: () => operators, ignore: ['insights'] } }, false);
  assert.deepEqual(findings.unstableOperators.map((o) => o.name), ['monitoring']);
  assert.deepEqual(findings.ignoredOperators.map((o) => o.name), ['insights']);
  assert.deepEqual(findings.unstableOperatorDetails.map((o) => o.name), ['monitoring']);
  assert.deepEqual(findings.operatorCounts, { stable: 1, total: 2 });
  assert.equal(findings.operatorsStable, false);
  const none = findingsOf([], { operators: { values: () => [], ignore: [] } }, false);
  assert.deepEqual(none.unstableOperators.map((o) => o.name), ['(none)'], 'no operator watched is not stable');
  const awaited = findingsOf([{ kind: 'awaiting', nodes: false, operators: true }, { kind: 'operators-awaited', stable: true }], {}, false);
  assert.equal(awaited.operatorsStable, true);
});

test('the completion watch overrides the ClusterVersion read by the preflight', () => {
  const preflight = { version: '4.16.1', completed: false, available: true, progressing: true, failing: false, message: 'installing' };
  const events: RunEvent[] = [{ kind: 'cluster-version', state: preflight }];
  assert.deepEqual(findingsOf(events, {}, false).clusterVersion, preflight);
  const later = { ...preflight, completed: true, progressing: false, message: 'done' };
  const completion = { clusterVersion: () => later, pools: () => [], lacks: () => ['pool worker: 1 of 2 updated'] };
  const findings = findingsOf(events, { completion }, false);
  assert.deepEqual(findings.clusterVersion, later);
  assert.deepEqual(findings.completionLacks, ['pool worker: 1 of 2 updated']);
  const unreadable = { ...completion, clusterVersion: () => undefined };
  assert.deepEqual(findingsOf(events, { completion: unreadable }, false).clusterVersion, preflight, 'not readable now: the preflight read stays');
});

test('only the final report pays for what each node lacks and the sorted timeline', () => {
  const source = approver(false);
  const events: RunEvent[] = [{ kind: 'awaiting', nodes: true, operators: true }, { kind: 'milestone', at: 20, event: 'registry ready' }];
  const live = findingsOf(events, { approver: source }, false);
  assert.equal(source.missingCalls, 0);
  assert.deepEqual(live.nodesMissing, []);
  assert.deepEqual(live.timeline, []);
  assert.deepEqual(live.approvedCsrs, ['csr-a']);
  const final = findingsOf(events, { approver: source }, true);
  assert.equal(source.missingCalls, 1);
  assert.deepEqual(final.nodesMissing, [{ node: 'worker-0', lacks: 'serving certificate not issued' }]);
  assert.deepEqual(final.timeline.map((t) => t.event), ['client approved', 'registry ready', 'ready']);
  assert.deepEqual(outstandingWork(final, { nodes: true, registry: false, operators: false }), [{ gate: 'nodes', text: 'nodes not Ready with serving certificates: worker-0 (serving certificate not issued)' }]);
});

test('RunProgress: sources attached as they start, milestones reached', () => {
  const progress = new RunProgress();
  progress.emit({ kind: 'awaiting', nodes: true, operators: false });
  assert.equal(progress.findings(false).nodesReady, false);
  progress.attach({ approver: approver(true) });
  assert.equal(progress.findings(false).nodesReady, true);
  assert.equal(progress.reached('registry ready'), false);
  progress.emit({ kind: 'milestone', at: 1, event: 'registry ready' });
  assert.equal(progress.reached('registry ready'), true);
  assert.equal(progress.reached('operators stable'), false);
});
