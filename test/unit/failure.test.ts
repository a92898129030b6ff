// The failure line (first failure, then "also:" what else is not done), the timeline offsets,
// the operator section of the summary, and diagnostics within their budget.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ClusterError } from '../../src/cluster/errors.ts';
import { silentLog } from '../../src/log.ts';
import { writeDiagnostics } from '../../src/report/diagnostics.ts';
import { failureLine, outstandingWork } from '../../src/report/failure.ts';
import { newReport } from '../../src/report/report.ts';
import { renderSummary } from '../../src/report/summary.ts';
import { renderGfm } from './markdown.ts';
import { renderText } from '../../src/report/text.ts';
import { offsetText } from '../../src/report/gantt.ts';

const ALL = { nodes: true, registry: true, operators: true };
const degraded = { name: 'monitoring', available: 'True', progressing: 'False', degraded: 'True', message: 'Degraded=True (UpdatingPrometheusFailed): prometheus rollout stuck' };

function failedAtNodes() {
  const report = newReport(0, false);
  report.nodes = [{ name: 'worker-0', ready: true, clientApproved: true, servingIssued: true, clientCertificates: 1 }, { name: 'worker-1', ready: false, clientApproved: false, servingIssued: false, clientCertificates: 0 }];
  report.nodesMissing = [{ node: 'worker-1', lacks: 'no client CSR seen (machine not booted, or cannot reach the API server)' }];
  report.unstableOperators = [degraded];
  report.operatorCounts = { stable: 30, total: 31 };
  report.registry = { managementState: 'Managed', storage: 'emptyDir', claim: '', rolloutStrategy: 'RollingUpdate', replicas: 1, ready: false, changed: true };
  report.registryWaitingFor = 'rollout: Progressing=True';
  return report;
}

test('outstanding work names the objects of every gate not done', () => {
  assert.deepEqual(outstandingWork(failedAtNodes(), ALL), [
    { gate: 'nodes', text: 'nodes not Ready with serving certificates: worker-1 (no client CSR seen (machine not booted, or cannot reach the API server))' },
    { gate: 'registry', text: 'image registry not ready: waiting for rollout: Progressing=True' },
    { gate: 'operators', text: `ClusterOperators not stable: monitoring (${degraded.message})` },
  ]);
  assert.deepEqual(outstandingWork(failedAtNodes(), { nodes: true, registry: false, operators: false }).map((o) => o.gate), ['nodes'], 'only what was asked for');
  const done = { ...newReport(0, false), nodesReady: true, operatorsStable: true };
  assert.deepEqual(outstandingWork(done, { ...ALL, registry: false }), []);
});

test('operators all stable at the failure, but not awaited to the end', () => {
  const report = { ...failedAtNodes(), unstableOperators: [], operatorCounts: { stable: 31, total: 31 } };
  assert.equal(outstandingWork(report, ALL)[2]!.text, 'ClusterOperators not awaited to the end (31 of 31 stable when the run stopped)');
  assert.match(renderSummary(report), /Not awaited to the end: all 31 watched ClusterOperators were stable when the run stopped\./);
});

test('the failure line: what failed first, then "also:" the rest, the failed gate not repeated', () => {
  const first = 'Nodes not Ready with serving certificates after 25s: worker-1 (no client CSR seen (machine not booted, or cannot reach the API server)).';
  const line = failureLine(first, 'nodes', outstandingWork(failedAtNodes(), ALL));
  assert.equal(
    line,
    `${first.slice(0, -1)}; also: image registry not ready: waiting for rollout: Progressing=True; ClusterOperators not stable: monitoring (${degraded.message}).`,
  );
  assert.equal(line.match(/worker-1/g)!.length, 1);
  assert.equal(failureLine(first, 'nodes', []), first, 'nothing else outstanding: unchanged');
  assert.match(failureLine('Cancelled: the job was stopped before the install finished.', undefined, outstandingWork(failedAtNodes(), ALL)), /^Cancelled: .*finished; also: nodes not Ready.*worker-1.*; image registry.*; ClusterOperators.*monitoring/);
});

test('the failure line stays short with many objects', () => {
  const report = failedAtNodes();
  report.nodesMissing = Array.from({ length: 40 }, (_, i) => ({ node: `w-${i}`, lacks: 'not Ready' }));
  report.unstableOperators = Array.from({ length: 12 }, (_, i) => ({ ...degraded, name: `op-${i}`, message: 'x'.repeat(1000) }));
  const line = failureLine('Image registry not ready after registry-timeout 15m: waiting for X.', 'registry', outstandingWork(report, ALL));
  assert.match(line, /w-4 \(not Ready\), and 35 more/);
  assert.match(line, /and 7 more\.$/);
  assert.ok(line.length < 1500, `${line.length} characters`);
});

test('timeline offsets in tenths of a second', () => {
  const table: Array<[number, string]> = [
    [0, '+0.0s'],
    [40, '+0.0s'],
    [50, '+0.1s'],
    [420, '+0.4s'],
    [12_345, '+12.3s'],
    [59_960, '+1m00.0s'],
    [125_400, '+2m05.4s'],
    [3_725_400, '+1h02m05.4s'],
    [-5, '+0.0s'],
  ];
  for (const [ms, text] of table) assert.equal(offsetText(ms), text, String(ms));
  const report = newReport(1_000, false);
  report.timeline = [
    { at: 1_300, node: 'worker-0', event: 'client approved' },
    { at: 1_700, node: 'worker-0', event: 'registered' },
    { at: 1_900, node: 'worker-0', event: 'serving approved' },
  ];
  assert.match(renderGfm(renderSummary(report)).replace(/\n/g, ''), /<tr><td>\+0\.3s<\/td><td>worker-0: client approved<\/td><\/tr><tr><td>\+0\.7s<\/td><td>worker-0: registered<\/td><\/tr><tr><td>\+0\.9s<\/td><td>worker-0: serving approved<\/td><\/tr>/);
  assert.match(renderText(report), / {4}\+0\.3s {2}worker-0: client approved\n {6}\+0\.7s {2}worker-0: registered/);
});

test('diagnostics: a forbidden read is listed as not readable with its rule, not retried, and all of it keeps to the budget', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ofi-diag-'));
  try {
    const report = failedAtNodes();
    report.nodesMissing = [{ node: 'worker-1', lacks: 'x' }, { node: 'worker-2', lacks: 'y' }];
    const calls: string[] = [];
    const started = Date.now();
    await writeDiagnostics(
      dir,
      report,
      {
        nodeEvents: async (node, limits) => {
          calls.push(node);
          if (node === 'worker-1') throw new ClusterError(`list events of Node ${node}`, 403, 'events is forbidden', 'Forbidden');
          // A read that never answers: stopped by the budget.
          return new Promise((_, reject) => limits.signal.addEventListener('abort', () => reject(limits.signal.reason)));
        },
        inspect: (_operators, _dir, signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('stopped')))),
      },
      silentLog,
      300,
    );
    assert.ok(Date.now() - started < 1000, `took ${Date.now() - started} ms with a 300 ms budget`);
    assert.deepEqual(calls, ['worker-1', 'worker-2'], 'each read once');
    const notReadable = JSON.parse(readFileSync(join(dir, 'not-readable.json'), 'utf8'));
    assert.equal(notReadable.length, 2);
    assert.deepEqual(
      { ...notReadable[0], detail: undefined },
      { read: 'list events of Node worker-1', reason: 'forbidden (HTTP 403)', detail: undefined, permission: '{apiGroups: [""], resources: ["events"], verbs: ["list"]} (Role in namespace default)' },
    );
    assert.match(notReadable[0].detail, /events is forbidden/);
    assert.equal(notReadable[1].read, 'list events of Node worker-2');
    const outputs = JSON.parse(readFileSync(join(dir, 'outputs.json'), 'utf8'));
    assert.equal(outputs['diagnostics-path'], dir, 'outputs.json holds the outputs as the step sets them');
    assert.ok(Number(outputs['duration-seconds']) > 1_000_000, 'counted up to now, not to the report start');
    const nodes = JSON.parse(readFileSync(join(dir, 'nodes-not-ready.json'), 'utf8'));
    assert.match(nodes[0].events, /^not readable: forbidden \(HTTP 403\); allowed by \{apiGroups: \[""\], resources: \["events"\], verbs: \["list"\]\}/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
