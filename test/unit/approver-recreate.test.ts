// A kubelet names its bootstrap CSR after its key and subject (node-csr-<digest>), so a deleted
// request can come back under the same name: that is a new request, decided and approved again.
/* eslint-disable @typescript-eslint/no-explicit-any */
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { CsrApprover } from '../../src/approver/approver.ts';
import type { ClusterGateway } from '../../src/cluster/gateway.ts';
import { Informer } from '../../src/cluster/informer.ts';
import { toCsr, toNode, type Csr, type NodeInfo } from '../../src/cluster/objects.ts';
import { silentLog } from '../../src/log.ts';
import { clientCsr as freshCsr, drivenSource } from './approver-fixtures.ts';

let uidn = 0;
/** Each call a new object: a CSR deleted and filed again under the same name has a new uid. */
const clientCsr = (name: string, node: string) => freshCsr(name, node, `uid-${name}-${++uidn}`);
const running: CsrApprover[] = [];
afterEach(() => { for (const a of running.splice(0)) a.stop(); });
async function approverWith(options: { retainHistory?: boolean }) {
  const csrs = drivenSource<Csr>('certificatesigningrequests', toCsr, (c) => c.name);
  const nodes = drivenSource<NodeInfo>('nodes', toNode, (n) => n.name);
  const approvals: string[] = [];
  const refusals: string[] = [];
  const gateway = {
    csrInformer: () => new Informer(csrs.source, 3_600_000, silentLog),
    nodeInformer: () => new Informer(nodes.source, 3_600_000, silentLog),
    approveCsr: async (csr: Csr) => (approvals.push(`${csr.name}/${csr.uid}`), 'approved'),
  } as unknown as ClusterGateway;
  const expected = [0, 1].map((i) => ({ name: `worker-${i}`, ips: [`10.0.0.${i + 1}`], dnsNames: [] }));
  const approver = new CsrApprover(gateway, { expected, dryRun: false, pollIntervalMs: 3_600_000, log: silentLog, events: { approved: () => {}, refused: (r) => refusals.push(r) }, ...options });
  running.push(approver);
  return { approver, csrs, approvals, refusals };
}
const settle = async (a: CsrApprover) => { for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r)); await a.settled(); };

test('action mode: a CSR deleted and re-created under the same name (kubelet node-csr-<digest>) is approved again', async () => {
  const { approver, csrs, approvals } = await approverWith({});
  const first = clientCsr('node-csr-abc', 'worker-0');
  csrs.setList([first]);
  await approver.start();
  await settle(approver);
  assert.equal(approvals.length, 1);
  csrs.event('DELETED', first);
  const second = clientCsr('node-csr-abc', 'worker-0');
  csrs.event('ADDED', second);
  await settle(approver);
  assert.equal(approvals.length, 2, `re-created CSR (uid ${second.metadata.uid}) never sent: approvals=${JSON.stringify(approvals)}`);
});

test('watch mode: deletion missed (410 re-list), re-created under the same name, is approved again', async () => {
  const { approver, csrs, approvals } = await approverWith({ retainHistory: false });
  const first = clientCsr('node-csr-abc', 'worker-0');
  csrs.setList([first]);
  await approver.start();
  await settle(approver);
  assert.equal(approvals.length, 1);
  const second = clientCsr('node-csr-abc', 'worker-0');
  csrs.setList([second]);
  csrs.expire();
  await new Promise((r) => setTimeout(r, 800));
  await settle(approver);
  assert.equal(approvals.length, 2, `re-created CSR never sent: approvals=${JSON.stringify(approvals)}; pending=${approver.pendingListedCsrs()}`);
});

test('--watch: a CSR deleted while its approval is in flight leaves nothing behind', async () => {
  const csrs = drivenSource<Csr>('certificatesigningrequests', toCsr, (c) => c.name);
  const nodes = drivenSource<NodeInfo>('nodes', toNode, (n) => n.name);
  const objects = new Map<string, any>();
  const gateway = {
    csrInformer: () => new Informer(csrs.source, 3_600_000, silentLog),
    nodeInformer: () => new Informer(nodes.source, 3_600_000, silentLog),
    approveCsr: async (csr: Csr) => {
      csrs.event('DELETED', objects.get(csr.name));
      return 'gone';
    },
  } as unknown as ClusterGateway;
  const approver = new CsrApprover(gateway, { expected: [{ name: 'worker-0', ips: ['10.0.0.1'], dnsNames: [] }], dryRun: false, pollIntervalMs: 3_600_000, log: silentLog, retainHistory: false });
  running.push(approver);
  const list = Array.from({ length: 5 }, (_, i) => clientCsr(`csr-${i}`, 'worker-0'));
  for (const o of list) objects.set(o.metadata.name, o);
  csrs.setList(list);
  await approver.start();
  await settle(approver);
  assert.deepEqual({ ...approver.retained(), timeline: 0, nodeCounters: 0 }, { requests: 0, refused: 0, approved: 0, dispatched: 0, timeline: 0, nodeCounters: 0 });
});

test('the storm guard counts a request re-created under the same name as another approval (the name is the requester\'s choice)', async () => {
  const { approver, csrs, approvals, refusals } = await approverWith({});
  await approver.start();
  for (let i = 0; i < 8; i++) {
    const again = clientCsr('node-csr-same', 'worker-0');
    csrs.event('ADDED', again);
    await settle(approver);
    csrs.event('DELETED', again);
    await settle(approver);
  }
  assert.equal(approvals.length, 6, `approved ${approvals.length} of 8 re-creations: ${approvals.join(', ')}`);
  assert.deepEqual([...new Set(refusals)], ['too-many-client-requests']);
});

test('the --watch service keeps counting a client approval after the cluster deletes its CSR: the cap holds over the life of the process', async () => {
  const { approver, csrs, approvals, refusals } = await approverWith({ retainHistory: false });
  await approver.start();
  const six = Array.from({ length: 6 }, (_, i) => clientCsr(`csr-${i}`, 'worker-1'));
  for (const csr of six) csrs.event('ADDED', csr);
  await settle(approver);
  assert.equal(approvals.length, 6);
  // Garbage collection: the approved CSRs are deleted (after an hour on a real cluster).
  for (const csr of six) csrs.event('DELETED', csr);
  await settle(approver);
  assert.equal(approver.retained().approved, 0, 'the approvals themselves are forgotten');
  const seventh = clientCsr('csr-7', 'worker-1');
  csrs.event('ADDED', seventh);
  await settle(approver);
  assert.equal(approvals.length, 6, `a seventh client request for worker-1 approved after the first six were deleted: ${approvals.join(', ')}`);
  assert.deepEqual(approver.refusedCsrs().map((r) => `${r.name} ${r.reason}`), ['csr-7 too-many-client-requests']);
  assert.deepEqual(refusals, ['too-many-client-requests']);
  // Taken off the list and listed again: the operator's decision, the count starts over.
  approver.updateExpected([{ name: 'worker-0', ips: ['10.0.0.1'], dnsNames: [] }]);
  approver.updateExpected([0, 1].map((i) => ({ name: `worker-${i}`, ips: [`10.0.0.${i + 1}`], dnsNames: [] })));
  await settle(approver);
  assert.equal(approvals.length, 7);
});

test('an approval the API server is slow to answer holds up neither the other nodes\' progress nor their approvals', async () => {
  const csrs = drivenSource<Csr>('certificatesigningrequests', toCsr, (c) => c.name);
  const nodes = drivenSource<NodeInfo>('nodes', toNode, (n) => n.name);
  const hung: Array<() => void> = [];
  const approvals: string[] = [];
  const gateway = {
    csrInformer: () => new Informer(csrs.source, 3_600_000, silentLog),
    nodeInformer: () => new Informer(nodes.source, 3_600_000, silentLog),
    approveCsr: (csr: Csr) => {
      approvals.push(csr.name);
      if (!csr.name.startsWith('slow')) return Promise.resolve('approved');
      return new Promise((resolve) => hung.push(() => resolve('approved')));
    },
  } as unknown as ClusterGateway;
  const expected = ['slow-0', 'slow-1', 'quick'].map((name, i) => ({ name, ips: [`10.0.1.${i + 1}`], dnsNames: [] }));
  const approver = new CsrApprover(gateway, { expected, dryRun: false, pollIntervalMs: 3_600_000, log: silentLog, concurrency: 2 });
  running.push(approver);
  await approver.start();
  csrs.event('ADDED', clientCsr('slow-a', 'slow-0'));
  csrs.event('ADDED', clientCsr('slow-b', 'slow-1'));
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  assert.equal(hung.length, 2, 'both approval slots are held');
  // Another machine's client certificate is issued meanwhile: its progress shows it at once.
  const issued = clientCsr('quick-a', 'quick');
  csrs.event('ADDED', { ...issued, status: { conditions: [{ type: 'Approved', status: 'True', reason: 'ByHand' }], certificate: 'Y2VydA==' } });
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  assert.equal(approver.nodeStatuses().find((n) => n.name === 'quick')?.clientApproved, true, 'progress of another node is not stuck behind the hung approvals');
  assert.equal(approver.nodeStatuses().find((n) => n.name === 'quick')?.ready, false);
  for (const release of hung.splice(0)) release();
  await settle(approver);
  assert.deepEqual(approver.approvedCsrs().sort(), ['slow-a', 'slow-b']);
});
