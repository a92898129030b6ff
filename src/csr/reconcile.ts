import { statusOf } from '../cluster/errors.ts';
import { APPROVAL_REASON, type ClusterGateway } from '../cluster/gateway.ts';
import type { Informer } from '../cluster/informer.ts';
import type { Csr, NodeInfo } from '../cluster/objects.ts';
import type { ExpectedNode } from '../settings/settings.ts';
import type { AddressIndex } from './addresses.ts';
import type { ApproverOptions } from './approver.ts';
import type { ApprovalFailures } from './failures.ts';
import type { ApprovalLedger, Approval } from './ledger.ts';
import type { Lifecycle } from './lifecycle.ts';
import { CLIENT_SIGNER, decide, REASONS, SERVING_SIGNER, type PolicyView, type Verdict } from './policy.ts';
import type { RequestCache } from './request-cache.ts';
import type { NodeTracker } from './tracker.ts';
import { parseCertificateRequest } from './x509.ts';

/** What the reconcile reads and writes: the approver's caches, and its queue. */
export interface ApproverState {
  readonly csrs: Informer<Csr>;
  readonly nodes: Informer<NodeInfo>;
  readonly requests: RequestCache;
  readonly addresses: AddressIndex;
  readonly ledger: ApprovalLedger;
  readonly failures: ApprovalFailures;
  readonly tracker: NodeTracker;
  readonly lifecycle: Lifecycle;
  expected(): ReadonlyMap<string, ExpectedNode>;
  /** Puts a CSR name on the work queue (again), now or after `afterMs`. */
  requeue(name: string, afterMs?: number): void;
  /** Runs an approval in the sender pool (a bounded number at once, in the order given). */
  send(approval: () => Promise<void>): void;
}

/**
 * The worker of the approver's queue: for one CSR name, what the CSR means for the run (an
 * approval of ours confirmed late, a client certificate issued, a node's progress) and, for a
 * pending kubelet request, the policy's verdict and the approval it deserves.
 */
export class Reconciler {
  private readonly gateway: ClusterGateway;
  private readonly options: ApproverOptions;
  private readonly state: ApproverState;
  /** What decide() reads: built once, over the live caches (the inventory can be replaced). */
  private readonly view: PolicyView;

  constructor(gateway: ClusterGateway, options: ApproverOptions, state: ApproverState) {
    this.gateway = gateway;
    this.options = options;
    this.state = state;
    const { nodes, ledger, requests } = state;
    this.view = {
      get expected() {
        return state.expected();
      },
      nodes: { get: (name) => nodes.get(name), has: (name) => nodes.get(name) !== undefined },
      clientApprovals: (node) => ledger.clientApprovals(node),
      addresses: state.addresses,
      parse: (csr) => requests.parse(csr) ?? parseCertificateRequest(csr.request),
      networks: options.networks,
      maxExpirationSeconds: options.maxExpirationSeconds,
    };
  }

  /**
   * The one reconcile: what this CSR means for the run, and the approval it deserves. It never
   * waits: an approval goes to the sender pool, so a slow API server holds up approvals only,
   * not the progress and decisions of other CSRs.
   */
  reconcile(name: string): void {
    const csr = this.state.csrs.get(name);
    if (!csr) {
      this.state.ledger.forgetCsr(name, this.options.retainHistory !== false);
      this.endFailures(name, 'the CSR was deleted');
      return;
    }
    const node = isKubelet(csr) ? this.state.requests.nodeOf(csr) : undefined;
    if (csr.state === 'approved') {
      // While our approval is in flight its answer says how the streak ended.
      if (!this.state.ledger.isSending(name)) this.endFailures(name, csr.approvedBy === APPROVAL_REASON ? 'approved (the answer to an attempt was lost; the server took it)' : 'approved by someone else');
      this.noteApproved(csr);
      if (node !== undefined) this.state.tracker.refresh([node]);
      return;
    }
    if (csr.state !== 'pending') this.endFailures(name, `the CSR was ${csr.state}`);
    if (csr.state !== 'pending' || this.state.ledger.isApproved(csr) || this.state.ledger.isSending(name) || this.state.lifecycle.stopped) return;
    const verdict = decide(csr, this.view);
    if (verdict.kind === 'refuse') this.refuse(csr, verdict);
    if (verdict.kind !== 'approve') {
      this.endFailures(name, 'the policy no longer allows it');
      return;
    }
    // A failing approval waits for its backoff, whatever queued it again (a re-list, an update).
    const wait = this.state.failures.waitMs(csr, Date.now());
    if (wait > 0) {
      this.state.requeue(name, wait);
      return;
    }
    // In the ledger before it is sent: the storm guard counts it while it is in flight.
    this.state.ledger.send(csr, verdict);
    this.state.send(() => this.approve(csr, verdict));
  }

  /** Refused requests are decided again when what a refusal depends on may have changed (a Node, a storm-guard slot). */
  requeueRefusals(): void {
    for (const r of this.state.ledger.refusals()) this.state.requeue(r.name);
  }

  private refuse(csr: Csr, verdict: Extract<Verdict, { kind: 'refuse' }>): void {
    const change = this.state.ledger.refuse(csr, verdict);
    if (change === 'same') return;
    if (change === 'new') this.options.events?.refused(verdict.reason);
    this.options.log.info(
      `refused ${verdict.phase} CSR ${csr.name}${verdict.node ? ` for ${verdict.node}` : ''}: ${verdict.reason} (${verdict.detail}; ${REASONS[verdict.reason]})`,
    );
  }

  private async approve(csr: Csr, verdict: Approval): Promise<void> {
    const what = `${verdict.phase} CSR ${csr.name} for ${verdict.node}`;
    if (this.options.dryRun) {
      this.state.ledger.confirm(csr.name);
      this.options.log.info(`would approve ${what} (dry-run)`);
      return;
    }
    this.state.tracker.approving(verdict.node, verdict.phase);
    try {
      const outcome = await this.gateway.approveCsr(csr, `Approved by openshift-finish-install: ${verdict.phase} identity of listed machine ${verdict.node} verified`);
      if (outcome !== 'approved') {
        this.state.failures.end(csr.name);
        this.withdraw(csr.name, verdict, false);
        this.options.log.info(`${what}: ${outcome === 'gone' ? 'deleted (or replaced) before approval' : `${outcome} by someone else`}`);
        return;
      }
      this.state.ledger.confirm(csr.name);
      const streak = this.state.failures.end(csr.name);
      this.approved(verdict, `approved ${what}${streak ? ` after ${streak.failures} failed attempt${streak.failures > 1 ? 's' : ''} over ${seconds(Date.now() - streak.since)} (last: ${streak.reason})` : ''}`);
      // The signer's update may have been seen before this answer.
      const current = this.state.csrs.get(csr.name);
      if (current?.uid === csr.uid) this.noteApproved(current);
    } catch (error) {
      this.withdraw(csr.name, verdict, true);
      if (this.state.lifecycle.stopped) return;
      this.failed(csr, verdict, error, what);
    } finally {
      this.state.tracker.answered(verdict.node, verdict.phase);
    }
  }

  /**
   * An approval the server did not take: counted by status, tried again after the CSR's backoff,
   * logged once per streak (the approval, when it comes, says how long it failed).
   */
  private failed(csr: Csr, verdict: Approval, error: unknown, what: string): void {
    const status = statusOf(error);
    const code = status === undefined ? 'none' : String(status);
    const serverReason = (error as { reason?: unknown }).reason;
    const reason = status === undefined ? 'no answer' : `HTTP ${status}${typeof serverReason === 'string' ? ` ${serverReason.replace(/[^\w .-]/g, '?').slice(0, 40)}` : ''}`;
    const now = Date.now();
    const { streak, first } = this.state.failures.failed(csr, verdict, { code, reason }, now);
    this.options.events?.approvalFailed?.(code);
    this.state.requeue(csr.name, streak.retryAt - now);
    if (status === 401 || status === 403) this.state.lifecycle.fail(new Error(`${(error as Error).message}. Grant the role in deploy/rbac.yaml to the action's identity.`));
    const next = `tried again in ${seconds(streak.retryAt - now)}`;
    if (first) this.options.log.warning(`could not approve ${what}: ${(error as Error).message}; ${next}, backing off, and logged again once it is approved`);
    else this.options.log.debug(`could not approve ${what} (attempt ${streak.failures}): ${reason}; ${next}`);
  }

  /** A failing approval that is no longer to be made: its streak ends, said once. */
  private endFailures(name: string, why: string): void {
    const streak = this.state.failures.end(name);
    if (streak) this.options.log.info(`stopped retrying the approval of ${streak.phase} CSR ${name} for ${streak.node} after ${streak.failures} failed attempt${streak.failures > 1 ? 's' : ''}: ${why}`);
  }

  /** Not approved by this run; a client slot it held may lift a storm-guard refusal. */
  private withdraw(name: string, verdict: Approval, lost: boolean): void {
    this.state.ledger.withdraw(name, lost);
    if (verdict.phase === 'client') this.requeueRefusals();
  }

  private approved(verdict: Approval, line: string): void {
    this.options.events?.approved(verdict.phase);
    this.state.tracker.recordApproval(verdict.node, verdict.phase);
    this.options.log.info(line);
  }

  /** An approved CSR: one of ours whose answer was lost, and the client certificates issued for a node. */
  private noteApproved(csr: Csr): void {
    const late = this.state.ledger.confirmLate(csr, csr.approvedBy === APPROVAL_REASON);
    if (late) this.approved(late, `approved ${late.phase} CSR ${csr.name} for ${late.node} (the answer to our request was lost; the server took it)`);
    if (this.options.dryRun || !csr.issued || csr.signerName !== CLIENT_SIGNER) return;
    const issued = this.state.ledger.noteIssued(csr);
    if (issued && issued.count > 1) this.options.log.warning(clientCertificatesWarning(issued.node, issued.count));
  }

}

/** The warning for a node name with more than one client certificate (log, job summary, CLI report). */
export function clientCertificatesWarning(node: string, count: number): string {
  return `${count} client certificates were issued for node ${node} in this run: a kubelet that asked again after a timeout does this, and so does a second machine using the bootstrap credential under this name; check that only one machine is ${node}`;
}

const seconds = (ms: number): string => (ms < 10_000 ? `${(Math.max(0, ms) / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`);

export const isKubelet = (csr: Csr): boolean => csr.signerName === CLIENT_SIGNER || csr.signerName === SERVING_SIGNER;
