// The approver's state without a cluster: a node's progress and what it lacks (progress.ts), the
// ledger of this run's approvals and refusals (ledger.ts), the address owner index (addresses.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Backoff } from '../../src/approver/failures.ts';
import { ApprovalLedger } from '../../src/approver/ledger.ts';
import { initialProgress, isDone, lacks, progressOf, stepsBetween } from '../../src/approver/progress.ts';
import { NodeTracker } from '../../src/approver/tracker.ts';
import type { Csr, NodeInfo } from '../../src/cluster/objects.ts';
import { addressIndexOf, AddressIndex } from '../../src/identity/addresses.ts';
import { CLIENT_SIGNER, MAX_CLIENT_APPROVALS_PER_NODE, SERVING_SIGNER } from '../../src/identity/policy.ts';

const csr = (name: string, signerName: string, state: Csr['state'], issued = false, uid = `uid-${name}`): Csr => ({
  name, uid, resourceVersion: '1', createdAt: 0, signerName, username: 'u', groups: [], usages: [], request: '', state, issued,
});
const BACKOFF: Backoff = { initialMs: 1000, maxMs: 4000 };
const NO_ANSWER = { code: 'none', reason: 'no answer' };
const node = (name: string, ready: boolean, ...ips: string[]): NodeInfo => ({ name, ready, addresses: ips.map((address) => ({ type: 'InternalIP', address })) });

test('progress: derived from the Node and its CSRs; what was reached stays reached when the CSRs are garbage-collected', () => {
  const start = initialProgress('w-0');
  assert.deepEqual(stepsBetween(start, progressOf(start, undefined, [])), []);
  const approved = progressOf(start, undefined, [csr('c1', CLIENT_SIGNER, 'approved')]);
  assert.equal(approved.clientApproved, true);
  assert.equal(approved.registered, false);
  const registered = progressOf(approved, node('w-0', false), []);
  assert.deepEqual(stepsBetween(approved, registered), ['registered']);
  const serving = progressOf(registered, node('w-0', false), [csr('s1', SERVING_SIGNER, 'approved', false)]);
  assert.equal(serving.servingIssued, false, 'approved is not issued');
  const issued = progressOf(serving, node('w-0', true), [csr('s1', SERVING_SIGNER, 'approved', true)]);
  assert.deepEqual(stepsBetween(serving, issued), ['serving issued', 'ready']);
  assert.equal(isDone(issued), true);
  const collected = progressOf(issued, node('w-0', true), []);
  assert.equal(collected.servingIssued && collected.clientApproved, true, 'sticky after garbage collection');
  const lost = progressOf(collected, node('w-0', false), []);
  assert.deepEqual(stepsBetween(collected, lost), ['not ready']);
  assert.equal(isDone(lost), false);
});

test('progress: a node Ready before the run is done without a new serving certificate', () => {
  const before = initialProgress('w-1', true);
  const now = progressOf(before, node('w-1', true), []);
  assert.equal(isDone(now), true);
  assert.equal(isDone(progressOf(initialProgress('w-1'), node('w-1', true), [])), false, 'not without readyAtStart');
});

test('progress: what an unfinished node lacks, in words', () => {
  const p = initialProgress('w-2');
  const refusal = (signer: string) => ({ name: 'r1', signer, requestor: 'x', node: 'w-2', reason: 'bad-signature' as const });
  assert.match(lacks(p, [], []), /no client CSR seen/);
  assert.equal(lacks(p, [], [refusal(CLIENT_SIGNER)]), 'client CSR r1 refused: bad-signature');
  assert.match(lacks(p, [csr('c', CLIENT_SIGNER, 'approved')], []), /no certificate issued \(is the cluster signer running\?\)/);
  assert.equal(lacks(p, [csr('c', CLIENT_SIGNER, 'approved', true)], []), 'client certificate issued, Node not registered');
  const registered = progressOf(p, node('w-2', false), []);
  assert.equal(lacks(registered, [], []), 'no serving CSR seen');
  assert.equal(lacks(registered, [], [refusal(SERVING_SIGNER)]), 'serving CSR r1 refused: bad-signature');
  assert.equal(lacks(registered, [csr('s', SERVING_SIGNER, 'approved')], []), 'serving CSR approved but no certificate issued');
  assert.equal(lacks(progressOf(registered, node('w-2', false), [csr('s', SERVING_SIGNER, 'approved', true)]), [], []), 'not Ready');
});

test('ledger: the storm guard counts approvals sent and approved, not those withdrawn', () => {
  const ledger = new ApprovalLedger(BACKOFF);
  const verdict = { kind: 'approve', phase: 'client', node: 'w-0' } as const;
  for (let i = 0; i < MAX_CLIENT_APPROVALS_PER_NODE; i++) ledger.approvalSent(csr(`c${i}`, CLIENT_SIGNER, 'pending'), verdict);
  assert.equal(ledger.clientApprovals('w-0'), MAX_CLIENT_APPROVALS_PER_NODE);
  ledger.approvalConfirmed('c0');
  ledger.approvalWithdrawn('c1');
  ledger.approvalWithdrawn('c1'); // twice: counted down once
  assert.equal(ledger.clientApprovals('w-0'), MAX_CLIENT_APPROVALS_PER_NODE - 1);
  ledger.approvalSent(csr('s0', SERVING_SIGNER, 'pending'), { kind: 'approve', phase: 'serving', node: 'w-0' });
  assert.equal(ledger.clientApprovals('w-0'), MAX_CLIENT_APPROVALS_PER_NODE - 1, 'serving approvals do not count');
  assert.deepEqual(ledger.approvedNames(), ['c0']);
});

test('ledger: an approval whose answer was lost is ours once the CSR shows our reason, not before, and not for another uid', () => {
  const ledger = new ApprovalLedger(BACKOFF);
  const verdict = { kind: 'approve', phase: 'client', node: 'w-0' } as const;
  ledger.approvalSent(csr('late', CLIENT_SIGNER, 'pending'), verdict);
  ledger.approvalFailed(csr('late', CLIENT_SIGNER, 'pending'), verdict, NO_ANSWER, 0);
  assert.equal(ledger.clientApprovals('w-0'), 0);
  assert.equal(ledger.csrApproved(csr('late', CLIENT_SIGNER, 'approved'), false).late, undefined, 'approved by someone else');
  ledger.approvalSent(csr('late', CLIENT_SIGNER, 'pending'), verdict);
  ledger.approvalFailed(csr('late', CLIENT_SIGNER, 'pending'), verdict, NO_ANSWER, 0);
  assert.equal(ledger.csrApproved(csr('late', CLIENT_SIGNER, 'approved', false, 'other-uid'), true).late, undefined, 'a re-created request is not ours');
  ledger.approvalSent(csr('late', CLIENT_SIGNER, 'pending'), verdict);
  ledger.approvalFailed(csr('late', CLIENT_SIGNER, 'pending'), verdict, NO_ANSWER, 0);
  assert.deepEqual(ledger.csrApproved(csr('late', CLIENT_SIGNER, 'approved'), true).late, verdict);
  assert.deepEqual(ledger.approvedNames(), ['late']);
  assert.equal(ledger.clientApprovals('w-0'), 1);
});

test('ledger: refusals are new once per request, issued client certificates counted per node, forgetting follows the CSR and the node', () => {
  const ledger = new ApprovalLedger(BACKOFF);
  const refuse = { kind: 'refuse', phase: 'client', node: 'w-0', reason: 'bad-signature', detail: '' } as const;
  assert.equal(ledger.refused(csr('r', CLIENT_SIGNER, 'pending'), refuse).change, 'new');
  assert.equal(ledger.refused(csr('r', CLIENT_SIGNER, 'pending'), refuse).change, 'same');
  assert.equal(ledger.refused(csr('r', CLIENT_SIGNER, 'pending'), { ...refuse, reason: 'wrong-groups' }).change, 'changed');
  assert.equal(ledger.refused(csr('r', CLIENT_SIGNER, 'pending', false, 'uid-2'), refuse).change, 'new', 're-created under the same name');
  const verdict = { kind: 'approve', phase: 'client', node: 'w-0' } as const;
  for (const name of ['a', 'b']) {
    ledger.approvalSent(csr(name, CLIENT_SIGNER, 'pending'), verdict);
    ledger.approvalConfirmed(name);
  }
  assert.deepEqual(ledger.csrApproved(csr('a', CLIENT_SIGNER, 'approved', true), true).issued, { node: 'w-0', count: 1 });
  assert.equal(ledger.csrApproved(csr('a', CLIENT_SIGNER, 'approved', true), true).issued, undefined, 'counted once');
  assert.deepEqual(ledger.csrApproved(csr('b', CLIENT_SIGNER, 'approved', true), true).issued, { node: 'w-0', count: 2 });
  ledger.csrDeleted('a', true);
  assert.deepEqual(ledger.approvedNames(), ['a', 'b'], 'the action keeps its approvals for the output');
  ledger.csrDeleted('r', false);
  ledger.csrDeleted('a', false);
  assert.deepEqual(ledger.approvedNames(), ['b']);
  assert.equal(ledger.clientApprovals('w-0'), 2, 'a deleted CSR\'s client approval still counts (the cap is over the life of the process)');
  assert.equal(ledger.standingRefusals().length, 0);
  ledger.nodeUnlisted('w-0');
  assert.equal(ledger.issuedClientCertificates('w-0'), 0);
  assert.equal(ledger.clientApprovals('w-0'), 0);
});

test('addresses: a listed machine is named before a Node; a Node update replaces its old addresses', () => {
  const index = addressIndexOf(
    [{ name: 'm-0', ips: ['10.0.0.1'], dnsNames: ['m-0.example.com'] }],
    [node('n-1', true, '10.0.0.1', '10.0.0.2')],
  );
  assert.equal(index.owner('10.0.0.1', 'x'), 'm-0');
  assert.equal(index.owner('10.0.0.1', 'm-0'), 'n-1', 'other than the asking node');
  assert.equal(index.owner('10.0.0.2', 'n-1'), undefined, 'its own address');
  assert.equal(index.owner('n-1', 'x'), 'n-1', 'a Node name is held by that Node');
  assert.equal(index.declaredOwner('10.0.0.1', 'x'), 'm-0', 'a declaration');
  assert.equal(index.declaredOwner('10.0.0.1', 'm-0'), undefined, 'a Node\'s own status never counts against a declaration');
  assert.equal(index.declaredOwner('10.0.0.2', 'm-0'), undefined);
  assert.equal(index.declaredOwner('n-1', 'm-0'), 'n-1', 'a Node name is its identity');
  assert.equal(index.declaredOwner('n-1', 'n-1'), undefined);
  assert.equal(index.declaredOwner('m-0.example.com', 'x'), 'm-0');
  index.setNode('n-1', node('n-1', true, '10.0.0.3'));
  assert.equal(index.owner('10.0.0.2', 'x'), undefined);
  assert.equal(index.owner('10.0.0.3', 'x'), 'n-1');
  index.setNode('n-1', undefined);
  assert.equal(index.owner('10.0.0.3', 'x'), undefined);
  index.setListed([]);
  assert.equal(index.owner('m-0.example.com', 'x'), undefined);
  assert.ok(new AddressIndex().owner('anything', 'x') === undefined);
});

test('tracker: a certificate issued before the approval\'s answer arrives is told after the approval', () => {
  const lines: string[] = [];
  let csrs: Csr[] = [csr('c1', CLIENT_SIGNER, 'approved', true)];
  const tracker = new NodeTracker({
    facts: { node: () => node('w-3', false, '10.0.0.3'), csrs: () => csrs, clientCertificates: () => 1 },
    log: { info: (m) => lines.push(m), warning: (m) => lines.push(m), debug: () => {} },
    latestOnly: false,
    changed: () => {},
  });
  tracker.list(['w-3']);
  tracker.refresh();
  assert.deepEqual(lines, ['node w-3 registered its Node']);
  tracker.approving('w-3', 'serving');
  csrs = [...csrs, csr('s1', SERVING_SIGNER, 'approved', true)];
  tracker.refresh(); // the informer shows the signer's update first
  assert.deepEqual(lines, ['node w-3 registered its Node'], 'held until the answer');
  tracker.recordApproval('w-3', 'serving');
  lines.push('approved serving CSR s1 for w-3');
  tracker.answered('w-3', 'serving');
  assert.deepEqual(lines, ['node w-3 registered its Node', 'approved serving CSR s1 for w-3', 'node w-3 has its serving certificate']);
  assert.deepEqual(tracker.timeline.map((t) => t.event), ['registered', 'serving approved', 'serving issued']);
  tracker.refresh();
  assert.equal(lines.length, 3, 'told once');
});
