// Approvals the server will not take (403 after a role change, 422 from an admission webhook,
// 409s past the retries): the per-CSR backoff and streak (failures.ts), the health verdict that
// turns 503 when an allowed request keeps failing (health.ts), and the approver around them:
// backing off, logging once per streak and once on recovery, counting by status.
 
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { CsrApprover } from '../../src/approver/approver.ts';
import { approvalBackoff, ApprovalFailures, backoffMs, type FailingApproval } from '../../src/approver/failures.ts';
import { ClusterError } from '../../src/cluster/errors.ts';
import type { ClusterGateway } from '../../src/cluster/gateway.ts';
import { Informer, type InformerStats } from '../../src/cluster/informer.ts';
import { toCsr, toNode, type Csr, type NodeInfo } from '../../src/cluster/objects.ts';
import { silentLog } from '../../src/log.ts';
import { DEFAULT_APPROVAL_FAILURE_GRACE_MS, healthOf } from '../../src/service/health.ts';
import { renderMetrics, ServiceCounters } from '../../src/service/metrics.ts';
import { clientCsr, drivenSource } from './approver-fixtures.ts';

test('backoff: doubling from the first wait, capped; the approver\'s derives from the poll interval', () => {
  const policy = { initialMs: 1000, maxMs: 6000 };
  const table: Array<[number, number]> = [[1, 1000], [2, 2000], [3, 4000], [4, 6000], [5, 6000], [60, 6000], [0, 1000]];
  for (const [failures, ms] of table) assert.equal(backoffMs(failures, policy), ms, `after ${failures} failures`);
  const derived: Array<[number, { initialMs: number; maxMs: number }]> = [
    [2000, { initialMs: 1000, maxMs: 6000 }],
    [10_000, { initialMs: 1000, maxMs: 30_000 }],
    [30_000, { initialMs: 1000, maxMs: 60_000 }],
    [3_600_000, { initialMs: 1000, maxMs: 60_000 }],
    [200, { initialMs: 200, maxMs: 600 }],
  ];
  for (const [poll, expected] of derived) assert.deepEqual(approvalBackoff(poll), expected, `poll interval ${poll} ms`);
});

test('failure streaks: one per CSR and uid, the next attempt after the backoff, ended by name', () => {
  const failures = new ApprovalFailures({ initialMs: 1000, maxMs: 4000 });
  const csr = { name: 'c', uid: 'u1' };
  const what = { node: 'w-0', phase: 'serving' } as const;
  const forbidden = { code: '403', reason: 'HTTP 403 Forbidden' };
  assert.equal(failures.waitMs(csr, 0), 0, 'nothing failed yet');
  const first = failures.failed(csr, what, forbidden, 10_000);
  assert.equal(first.first, true);
  assert.deepEqual(first.streak, { name: 'c', uid: 'u1', node: 'w-0', phase: 'serving', since: 10_000, failures: 1, code: '403', reason: 'HTTP 403 Forbidden', retryAt: 11_000 });
  assert.equal(failures.waitMs(csr, 10_400), 600);
  assert.equal(failures.waitMs(csr, 11_000), 0);
  const second = failures.failed(csr, what, { code: '422', reason: 'HTTP 422 Invalid' }, 11_000);
  assert.deepEqual([second.first, second.streak.since, second.streak.failures, second.streak.retryAt, second.streak.code], [false, 10_000, 2, 13_000, '422']);
  assert.equal(failures.waitMs({ name: 'c', uid: 'u2' }, 11_000), 0, 'a request re-created under the name is not held back');
  const again = failures.failed({ name: 'c', uid: 'u2' }, what, forbidden, 12_000);
  assert.deepEqual([again.first, again.streak.since, again.streak.failures], [true, 12_000, 1], 'and starts its own streak');
  assert.equal(failures.all().length, 1);
  assert.equal(failures.end('c')?.failures, 1);
  assert.equal(failures.end('c'), undefined);
  assert.deepEqual(failures.all(), []);
});

const NOW = 1_000_000;
const synced = (kind: string): InformerStats => ({ kind, synced: true, lastListAt: NOW - 1000, lastEventAt: NOW - 500, watchRestarts: 0 });
const failing = (node: string, ageMs: number, reason = 'HTTP 403 Forbidden'): FailingApproval => ({ name: `csr-${node}`, uid: 'u', node, phase: 'serving', since: NOW - ageMs, failures: 7, code: '403', reason, retryAt: NOW + 1000 });

test('health: 503 with the reason once an allowed approval has failed for longer than the grace, 200 within it', () => {
  const informers = [synced('certificatesigningrequests'), synced('nodes')];
  const grace = 60_000;
  const table: Array<[string, FailingApproval[], boolean, RegExp]> = [
    ['nothing failing', [], true, /^ok$/],
    ['failing within the grace', [failing('w-0', 59_000)], true, /^ok$/],
    ['failing for longer', [failing('w-0', 61_000)], false, /^approvals failing for more than 60 s: serving CSR of w-0 for 61 s \(HTTP 403 Forbidden, 7 attempts\)$/],
    ['the oldest first, three named', [failing('w-1', 70_000), failing('w-2', 90_000), failing('w-3', 80_000), failing('w-4', 65_000), failing('w-5', 1000)], false, /: serving CSR of w-2 for 90 s .*; serving CSR of w-3 .*; serving CSR of w-1 .*, and 1 more$/],
  ];
  for (const [what, list, ok, text] of table) {
    const verdict = healthOf(informers, NOW, 2000, list, grace);
    assert.equal(verdict.ok, ok, what);
    assert.match(verdict.text, text, what);
  }
  assert.match(healthOf([{ ...synced('nodes'), lastListAt: 0, lastEventAt: 0 }], NOW, 2000, [failing('w-0', 61_000)], grace).text, /^no successful list/, 'out of reach is said first');
  assert.equal(healthOf(informers, NOW, 2000, [failing('w-0', DEFAULT_APPROVAL_FAILURE_GRACE_MS - 1)]).ok, true, 'the default grace');
  assert.equal(healthOf(informers, NOW, 2000, [failing('w-0', DEFAULT_APPROVAL_FAILURE_GRACE_MS + 1)]).ok, false);
});

test('metrics: approval failures counted by status, and the failing requests now', () => {
  const counters = new ServiceCounters();
  for (const code of ['403', '403', '422', 'none']) counters.approvalFailed(code);
  const text = renderMetrics({ counters, pendingListedCsrs: 2, failingApprovals: 1, informers: [], rssBytes: 1, eventLoopDelayP99Seconds: 0, eventLoopDelayMaxSeconds: 0, startedAt: 0, healthy: false });
  assert.match(text, /^# TYPE openshift_finish_install_approval_failures_total counter$/m);
  assert.match(text, /^openshift_finish_install_approval_failures_total\{code="403"\} 2\nopenshift_finish_install_approval_failures_total\{code="422"\} 1\nopenshift_finish_install_approval_failures_total\{code="none"\} 1$/m);
  assert.match(text, /^openshift_finish_install_failing_approvals 1$/m);
});

// ---- the approver around them -----------------------------------------------------------------

const running: CsrApprover[] = [];
afterEach(() => {
  for (const a of running.splice(0)) a.stop();
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('the approver backs off a failing approval, logs it once per streak and once when it goes through, and counts each failure by status', async () => {
  const csrs = drivenSource<Csr>('certificatesigningrequests', toCsr, (c) => c.name);
  const nodes = drivenSource<NodeInfo>('nodes', toNode, (n) => n.name);
  const attempts: number[] = [];
  let refuse = true;
  const gateway = {
    csrInformer: () => new Informer(csrs.source, 3_600_000, silentLog),
    nodeInformer: () => new Informer(nodes.source, 3_600_000, silentLog),
    approveCsr: async () => {
      attempts.push(Date.now());
      if (refuse) throw new ClusterError('approve CertificateSigningRequest csr-a', 403, 'user not permitted to approve requests with signerName', 'Forbidden');
      return 'approved';
    },
  } as unknown as ClusterGateway;
  const lines: string[] = [];
  const log = { info: (m: string) => lines.push(`info ${m}`), warning: (m: string) => lines.push(`warning ${m}`), debug: (m: string) => lines.push(`debug ${m}`) };
  const failures: string[] = [];
  // A 200 ms poll interval: retries after 200, 400, 600, 600 ... ms.
  const approver = new CsrApprover(gateway, {
    expected: [{ name: 'worker-0', ips: ['10.0.0.1'], dnsNames: [] }],
    dryRun: false,
    pollIntervalMs: 200,
    log,
    retainHistory: false,
    events: { approved: () => {}, refused: () => {}, approvalFailed: (code) => failures.push(code) },
  });
  running.push(approver);
  csrs.setList([clientCsr('csr-a', 'worker-0')]);
  await approver.start();
  for (let i = 0; attempts.length < 5 && i < 100; i++) {
    if (i % 5 === 0) csrs.event('MODIFIED', clientCsr('csr-a', 'worker-0')); // updates queue it again
    await sleep(50);
  }
  assert.ok(attempts.length >= 5, `attempts: ${attempts.length}`);
  const gaps = attempts.slice(1).map((t, i) => t - attempts[i]!);
  assert.ok(gaps[0]! >= 180 && gaps[1]! >= 380 && gaps[2]! >= 580 && gaps[3]! >= 580, `backed off, whatever queued the CSR again: gaps ${gaps.join(', ')} ms`);
  assert.ok(gaps[3]! < 1500, `capped: ${gaps.join(', ')}`);
  const warnings = lines.filter((l) => l.startsWith('warning'));
  assert.equal(warnings.length, 1, `one warning for the streak:\n${lines.join('\n')}`);
  assert.match(warnings[0]!, /could not approve client CSR csr-a for worker-0: .*HTTP 403 Forbidden.*; tried again in 0\.2 s, backing off/);
  const streak = approver.failingApprovals();
  assert.deepEqual(streak.map((s) => [s.name, s.node, s.code, s.reason]), [['csr-a', 'worker-0', '403', 'HTTP 403 Forbidden']]);
  assert.equal(failures.length, attempts.length);
  assert.deepEqual([...new Set(failures)], ['403']);

  refuse = false;
  for (let i = 0; approver.failingApprovals().length > 0 && i < 100; i++) await sleep(50);
  assert.deepEqual(approver.failingApprovals(), []);
  assert.deepEqual(approver.approvedCsrs(), ['csr-a']);
  const recovered = lines.filter((l) => /^info approved client CSR csr-a for worker-0 after \d+ failed attempts over [\d.]+ s \(last: HTTP 403 Forbidden\)$/.test(l));
  assert.equal(recovered.length, 1, lines.join('\n'));
  assert.equal(lines.filter((l) => l.startsWith('warning')).length, 1);
});

test('a failing approval whose request is deleted ends its streak, said once', async () => {
  const csrs = drivenSource<Csr>('certificatesigningrequests', toCsr, (c) => c.name);
  const nodes = drivenSource<NodeInfo>('nodes', toNode, (n) => n.name);
  const gateway = {
    csrInformer: () => new Informer(csrs.source, 3_600_000, silentLog),
    nodeInformer: () => new Informer(nodes.source, 3_600_000, silentLog),
    approveCsr: async () => {
      throw new ClusterError('approve', 422, 'denied by the admission webhook', 'Invalid');
    },
  } as unknown as ClusterGateway;
  const lines: string[] = [];
  const log = { info: (m: string) => lines.push(`info ${m}`), warning: (m: string) => lines.push(`warning ${m}`), debug: () => {} };
  const approver = new CsrApprover(gateway, { expected: [{ name: 'worker-0', ips: ['10.0.0.1'], dnsNames: [] }], dryRun: false, pollIntervalMs: 200, log, retainHistory: false });
  running.push(approver);
  const csr = clientCsr('csr-b', 'worker-0');
  csrs.setList([csr]);
  await approver.start();
  for (let i = 0; approver.failingApprovals().length === 0 && i < 100; i++) await sleep(20);
  assert.equal(approver.failingApprovals()[0]?.reason, 'HTTP 422 Invalid');
  csrs.event('DELETED', csr);
  for (let i = 0; approver.failingApprovals().length > 0 && i < 100; i++) await sleep(20);
  assert.deepEqual(approver.failingApprovals(), []);
  assert.deepEqual(lines.filter((l) => l.startsWith('info stopped retrying')), ['info stopped retrying the approval of client CSR csr-b for worker-0 after 1 failed attempt: the CSR was deleted']);
});
