import { statusOf } from '../cluster/errors.ts';
import { APPROVAL_REASON, type ClusterGateway } from '../cluster/gateway.ts';
import type { Informer } from '../cluster/informer.ts';
import type { Csr, NodeInfo } from '../cluster/objects.ts';
import type { AddressIndex } from '../identity/addresses.ts';
import { clientCertificatesWarning, decide, isKubelet, REASONS, type PolicyView } from '../identity/policy.ts';
import { parseCertificateRequest } from '../identity/x509.ts';
import type { ExpectedNode } from '../settings/settings.ts';
import type { FailingApproval } from './failures.ts';
import type { Approval, ApprovalLedger, Issued, Refusal } from './ledger.ts';
import type { Lifecycle } from './lifecycle.ts';
import type { ApproverOptions } from './options.ts';
import type { RequestCache } from './request-cache.ts';
import type { NodeTracker } from './tracker.ts';

/** What the reconcile reads and writes: the approver's caches, and its queue. */
export interface ApproverState {
  readonly csrs: Informer<Csr>;
  readonly nodes: Informer<NodeInfo>;
  readonly requests: RequestCache;
  readonly addresses: AddressIndex;
  readonly ledger: ApprovalLedger;
  readonly tracker: NodeTracker;
  readonly lifecycle: Lifecycle;
  expected(): ReadonlyMap<string, ExpectedNode>;
  /** Puts a CSR name on the work queue (again), now or after `afterMs`. */
  requeue(name: string, afterMs?: number): void;
  /** Runs an approval in the sender pool (a bounded number at once, in the order given). */
  send(approval: () => Promise<void>): void;
}

/**
 * The worker of the approver's queue. One pass per CSR name, client-go's controller shape: look
 * up the CSR, its node and what this run did with it; decide (the policy); act (approve, or
 * record the refusal); record the outcome in the ledger with one event, and say what it means.
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
   * The one pass: look up, decide, act, record. It never waits: an approval goes to the sender pool, so a slow API server
   * holds up approvals only, not the progress and decisions of other CSRs.
   */
  reconcile(name: string): void {
    const { csrs, requests, ledger, lifecycle } = this.state;
    const csr = csrs.get(name);
    if (!csr) {
      this.stoppedRetrying(name, ledger.csrDeleted(name, this.options.retainHistory !== false).ended, 'the CSR was deleted');
      return;
    }
    const node = isKubelet(csr) ? requests.nodeOf(csr) : undefined;
    if (csr.state === 'approved') {
      this.seenApproved(csr, node);
      return;
    }
    if (csr.state !== 'pending') {
      this.stoppedRetrying(name, ledger.csrRejected(name).ended, `the CSR was ${csr.state}`);
      return;
    }
    if (ledger.hasApproval(csr) || lifecycle.stopped) return;
    const verdict = decide(csr, this.view);
    if (verdict.kind === 'approve') this.approve(csr, verdict);
    else if (verdict.kind === 'refuse') this.refuse(csr, verdict);
    else this.stoppedRetrying(name, ledger.ignored(name).ended, 'the policy no longer allows it');
  }

  /** Refused requests are decided again when what a refusal depends on may have changed (a Node, a storm-guard slot). */
  requeueRefusals(): void {
    for (const r of this.state.ledger.refusals()) this.state.requeue(r.name);
  }

  /** An approved CSR: one of ours whose answer was lost, and the client certificates issued for a node. */
  private seenApproved(csr: Csr, node: string | undefined): void {
    const byUs = csr.approvedBy === APPROVAL_REASON;
    const { ended, late, issued } = this.state.ledger.csrApproved(csr, byUs);
    this.stoppedRetrying(csr.name, ended, byUs ? 'approved (the answer to an attempt was lost; the server took it)' : 'approved by someone else');
    if (late) this.approved(late, `approved ${late.phase} CSR ${csr.name} for ${late.node} (the answer to our request was lost; the server took it)`);
    this.warnIfSeveral(issued);
    if (node !== undefined) this.state.tracker.refresh([node]);
  }

  private refuse(csr: Csr, refusal: Refusal): void {
    const { ended, change } = this.state.ledger.refused(csr, refusal);
    if (change !== 'same') {
      if (change === 'new') this.options.events?.refused(refusal.reason);
      this.options.log.info(`refused ${refusal.phase} CSR ${csr.name}${refusal.node ? ` for ${refusal.node}` : ''}: ${refusal.reason} (${refusal.detail}; ${REASONS[refusal.reason]})`);
    }
    this.stoppedRetrying(csr.name, ended, 'the policy no longer allows it');
  }

  private approve(csr: Csr, approval: Approval): void {
    // A failing approval waits for its backoff, whatever queued it again (a re-list, an update).
    const wait = this.state.ledger.retryWaitMs(csr, Date.now());
    if (wait > 0) {
      this.state.requeue(csr.name, wait);
      return;
    }
    const what = `${approval.phase} CSR ${csr.name} for ${approval.node}`;
    if (this.options.dryRun) {
      this.state.ledger.approvedInDryRun(csr, approval);
      this.options.log.info(`would approve ${what} (dry-run)`);
      return;
    }
    // In the ledger before it is sent: the storm guard counts it while it is in flight.
    this.state.ledger.approvalSent(csr, approval);
    this.state.send(() => this.send(csr, approval, what));
  }

  private async send(csr: Csr, approval: Approval, what: string): Promise<void> {
    const { ledger, tracker } = this.state;
    tracker.approving(approval.node, approval.phase);
    try {
      const outcome = await this.gateway.approveCsr(csr, `Approved by openshift-finish-install: ${approval.phase} identity of listed machine ${approval.node} verified`);
      if (outcome === 'approved') {
        const { ended, issued } = ledger.approvalConfirmed(csr.name, this.state.csrs.get(csr.name));
        this.approved(approval, `approved ${what}${ended ? ` after ${attempts(ended)} over ${seconds(Date.now() - ended.since)} (last: ${ended.reason})` : ''}`);
        this.warnIfSeveral(issued);
        return;
      }
      ledger.approvalWithdrawn(csr.name);
      this.slotFreed(approval);
      this.options.log.info(`${what}: ${outcome === 'gone' ? 'deleted (or replaced) before approval' : `${outcome} by someone else`}`);
    } catch (error) {
      if (this.state.lifecycle.stopped) ledger.approvalAbandoned(csr.name);
      else this.failed(csr, approval, error, what);
    } finally {
      tracker.answered(approval.node, approval.phase);
    }
  }

  /**
   * An approval the server did not take: counted by status, tried again after the CSR's backoff,
   * logged once per streak (the approval, when it comes, says how long it failed).
   */
  private failed(csr: Csr, approval: Approval, error: unknown, what: string): void {
    const status = statusOf(error);
    const code = status === undefined ? 'none' : String(status);
    const serverReason = (error as { reason?: unknown }).reason;
    const reason = status === undefined ? 'no answer' : `HTTP ${status}${typeof serverReason === 'string' ? ` ${serverReason.replace(/[^\w .-]/g, '?').slice(0, 40)}` : ''}`;
    const now = Date.now();
    const { streak, first } = this.state.ledger.approvalFailed(csr, approval, { code, reason }, now);
    this.slotFreed(approval);
    this.options.events?.approvalFailed?.(code);
    this.state.requeue(csr.name, streak.retryAt - now);
    if (status === 401 || status === 403) this.state.lifecycle.fail(new Error(`${(error as Error).message}. Grant the role in deploy/rbac.yaml to the action's identity.`));
    const next = `tried again in ${seconds(streak.retryAt - now)}`;
    if (first) this.options.log.warning(`could not approve ${what}: ${(error as Error).message}; ${next}, backing off, and logged again once it is approved`);
    else this.options.log.debug(`could not approve ${what} (attempt ${streak.failures}): ${reason}; ${next}`);
  }

  /** A client approval no longer on its way frees a storm-guard slot: a refusal it caused may lift. */
  private slotFreed(approval: Approval): void {
    if (approval.phase === 'client') this.requeueRefusals();
  }

  /** A failing approval that is no longer to be made: its streak ended, said once. */
  private stoppedRetrying(name: string, ended: FailingApproval | undefined, why: string): void {
    if (ended) this.options.log.info(`stopped retrying the approval of ${ended.phase} CSR ${name} for ${ended.node} after ${attempts(ended)}: ${why}`);
  }

  private approved(approval: Approval, line: string): void {
    this.options.events?.approved(approval.phase);
    this.state.tracker.recordApproval(approval.node, approval.phase);
    this.options.log.info(line);
  }

  private warnIfSeveral(issued: Issued | undefined): void {
    if (issued && issued.count > 1) this.options.log.warning(clientCertificatesWarning(issued.node, issued.count));
  }
}

const attempts = (streak: FailingApproval): string => `${streak.failures} failed attempt${streak.failures > 1 ? 's' : ''}`;
const seconds = (ms: number): string => (ms < 10_000 ? `${(Math.max(0, ms) / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`);
