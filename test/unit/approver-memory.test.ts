// What the approver keeps per CSR and per node follows the work in hand (no cluster): a CSR the
// cluster deletes, by watch event or missing from a re-list, and a machine taken off the list
// leave nothing behind in the --watch service; the action keeps its approvals for the output.
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import type { ClusterGateway } from '../../src/cluster/gateway.ts';
import { Informer } from '../../src/cluster/informer.ts';
import { toCsr, toNode, type Csr, type NodeInfo } from '../../src/cluster/objects.ts';
import { APPROVAL_REASON } from '../../src/cluster/gateway.ts';
import { CsrApprover } from '../../src/approver/approver.ts';
import { silentLog } from '../../src/log.ts';
import { clientCsr, drivenSource } from './approver-fixtures.ts';

const running: CsrApprover[] = [];
afterEach(() => {
  for (const approver of running.splice(0)) approver.stop();
});

async function approverWith(options: { retainHistory?: boolean }, approve: (csr: Csr) => Promise<string> = async () => 'approved') {
  const csrs = drivenSource<Csr>('certificatesigningrequests', toCsr, (c) => c.name);
  const nodes = drivenSource<NodeInfo>('nodes', toNode, (n) => n.name);
  const approvals: string[] = [];
  const gateway = {
    csrInformer: () => new Informer(csrs.source, 3_600_000, silentLog),
    nodeInformer: () => new Informer(nodes.source, 3_600_000, silentLog),
    approveCsr: async (csr: Csr) => (approvals.push(csr.name), approve(csr)),
  } as unknown as ClusterGateway;
  const expected = [0, 1, 2].map((i) => ({ name: `worker-${i}`, ips: [`10.0.0.${i + 1}`], dnsNames: [] }));
  const approver = new CsrApprover(gateway, { expected, dryRun: false, pollIntervalMs: 3_600_000, log: silentLog, ...options });
  running.push(approver);
  return { approver, csrs, approvals };
}

const settle = async (approver: CsrApprover) => {
  await new Promise((r) => setImmediate(r));
  await approver.settled();
};

test('the --watch service forgets a deleted CSR: parsed request, node, refusal, approval, and what a re-list no longer holds', async () => {
  const { approver, csrs, approvals } = await approverWith({ retainHistory: false });
  const good = clientCsr('csr-good', 'worker-0');
  const forged = clientCsr('csr-forged', 'rogue');
  const later = clientCsr('csr-later', 'worker-1');
  csrs.setList([good, forged]);
  await approver.start();
  await settle(approver);
  assert.deepEqual(approvals, ['csr-good']);
  assert.deepEqual(approver.refusedCsrs().map((r) => r.name), ['csr-forged']);
  assert.equal(approver.retained().requests, 2);
  assert.equal(approver.retained().approved, 1);

  csrs.event('DELETED', good);
  csrs.event('DELETED', forged);
  await settle(approver);
  assert.deepEqual({ ...approver.retained(), nodeCounters: 0, timeline: 0 }, { requests: 0, refused: 0, approved: 0, dispatched: 0, timeline: 0, nodeCounters: 0 });
  assert.deepEqual(approver.approvedCsrs(), []);

  // Deleted while no watch was open: the re-list simply lacks it.
  csrs.event('ADDED', later);
  await settle(approver);
  assert.deepEqual(approvals, ['csr-good', 'csr-later']);
  assert.equal(approver.retained().requests, 1);
  csrs.setList([]);
  csrs.expire();
  for (let i = 0; i < 100 && approver.retained().requests > 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(approver.retained().requests, 0);
  assert.equal(approver.retained().approved, 0);
});

test('the action keeps its approvals of deleted CSRs for approved-csrs, but not their parsed requests', async () => {
  const { approver, csrs } = await approverWith({});
  const good = clientCsr('csr-kept', 'worker-0');
  csrs.setList([good]);
  await approver.start();
  await settle(approver);
  csrs.event('DELETED', good);
  await settle(approver);
  assert.deepEqual(approver.approvedCsrs(), ['csr-kept']);
  assert.equal(approver.retained().requests, 0);
});

test('a machine taken off the list takes its counters and timeline with it; renewals keep one timeline entry per node and event', async () => {
  const { approver, csrs } = await approverWith({ retainHistory: false });
  csrs.setList([clientCsr('csr-a', 'worker-0'), clientCsr('csr-b', 'worker-1')]);
  await approver.start();
  await settle(approver);
  assert.equal(approver.retained().nodeCounters, 2, 'both client approvals counted');
  // A kubelet that asked again after its timeout: a second approval replaces the timeline entry.
  csrs.event('ADDED', clientCsr('csr-c', 'worker-0'));
  await settle(approver);
  assert.deepEqual(approver.approvedCsrs().sort(), ['csr-a', 'csr-b', 'csr-c']);
  assert.deepEqual(approver.timeline.filter((t) => t.node === 'worker-0').map((t) => t.event), ['client approved']);

  approver.updateExpected([{ name: 'worker-1', ips: ['10.0.0.2'], dnsNames: [] }]);
  assert.equal(approver.retained().nodeCounters, 1, 'only the listed machine keeps its counter');
  assert.deepEqual([...new Set(approver.timeline.map((t) => t.node))], ['worker-1']);
  assert.deepEqual(approver.nodeStatuses().map((n) => n.name), ['worker-1']);
});

test('an approval whose answer was lost, that the server took after all, is reported as this run\'s', async () => {
  const timedOut = Object.assign(new Error('approve CertificateSigningRequest failed: no answer within 20 s'), { name: 'TimeoutError' });
  const { approver, csrs } = await approverWith({}, async () => {
    throw timedOut;
  });
  const csr = clientCsr('csr-late', 'worker-0') as { metadata: { resourceVersion: string } };
  csrs.setList([csr]);
  await approver.start();
  await settle(approver);
  assert.deepEqual(approver.approvedCsrs(), [], 'the call failed');
  csrs.event('MODIFIED', { ...csr, metadata: { ...csr.metadata, resourceVersion: String(Number(csr.metadata.resourceVersion) + 1) }, status: { conditions: [{ type: 'Approved', status: 'True', reason: APPROVAL_REASON }] } });
  await settle(approver);
  assert.deepEqual(approver.approvedCsrs(), ['csr-late']);
  assert.ok(approver.timeline.some((t) => t.node === 'worker-0' && t.event === 'client approved'));
});
