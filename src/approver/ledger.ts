import type { Csr } from '../cluster/objects.ts';
import type { Phase, ReasonCode, Verdict } from '../identity/policy.ts';
import { ApprovalFailures, type Backoff, type FailingApproval } from './failures.ts';

export interface RefusedCsr {
  readonly name: string;
  readonly signer: string;
  readonly requestor: string;
  readonly node: string;
  readonly reason: ReasonCode;
  /** spec.expirationSeconds, when the request asks for a lifetime. */
  readonly expirationSeconds?: number;
}

export type Approval = Extract<Verdict, { kind: 'approve' }>;
export type Refusal = Extract<Verdict, { kind: 'refuse' }>;

/** What an event ended: the failure streak of an approval that is no longer to be retried, said once. */
export interface Ended {
  readonly ended?: FailingApproval | undefined;
}

/** A client certificate issued on this run's approval, and how many the node has had in this run. */
export interface Issued {
  readonly node: string;
  readonly count: number;
}

/** One approval of this run: the request (by uid), what it was for, and when it was decided. */
interface Entry {
  readonly uid: string;
  readonly node: string;
  readonly phase: Phase;
  /** Decision order (client first, newest first), for approved-csrs. */
  readonly seq: number;
  /** Decided in a dry run: nothing was sent, so no certificate issued for it is this run's. */
  readonly dryRun?: boolean;
  /** spec.expirationSeconds, when the request asks for a lifetime. */
  readonly expirationSeconds?: number | undefined;
}

/**
 * What this run did with each CSR, by name with the uid: a kubelet names its CSR after its key
 * and subject (node-csr-<hash>), so a deleted request can come back under the same name, and
 * that one is a new request. The reconcile tells it each outcome as one event, named for what
 * happened (approvalSent, approvalConfirmed, refused, csrDeleted...), and reads back what it must
 * say about it. Approvals move sending -> approved, or back out (not ours after all); one whose
 * answer was lost waits as unconfirmed until the CSR shows who approved it.
 */
export class ApprovalLedger {
  private readonly sending = new Map<string, Entry>();
  private readonly approved = new Map<string, Entry>();
  private readonly unconfirmed = new Map<string, Entry>();
  private readonly refusedCsrs = new Map<string, RefusedCsr & { uid: string }>();
  /**
   * Per listed node name, the client requests sending or approved by this process, by name and
   * uid: the storm guard's count (a request deleted and re-created under the same name is another
   * approval). An approval stays counted after the cluster deletes its CSR (garbage collection
   * after an hour): a count of live CSRs would fall back to 0 every hour, and a listed name
   * without a Node could then be claimed again and again. Bounded by the cap per listed name;
   * it goes when the name is no longer listed.
   */
  private readonly clients = new Map<string, Set<string>>();
  /**
   * Per listed node, this run's client approvals whose certificate was issued. Kept across CSR
   * garbage collection while the name is listed: a second certificate for one name is what a
   * copied bootstrap credential looks like.
   */
  private readonly issued = new Map<string, Set<string>>();
  /** The approvals the server would not take, each with its backoff. */
  private readonly failures: ApprovalFailures;
  private seq = 0;

  constructor(backoff: Backoff) {
    this.failures = new ApprovalFailures(backoff);
  }

  // What the reconcile looks up.

  /** This run approved this request, or an approval under its name is on its way. */
  hasApproval(csr: { readonly name: string; readonly uid: string }): boolean {
    return this.sending.has(csr.name) || this.isApproved(csr);
  }

  /** How long until a failing approval of this request may be sent again (0: now). */
  retryWaitMs(csr: { readonly name: string; readonly uid: string }, now: number): number {
    return this.failures.waitMs(csr, now);
  }

  /** Client CSRs this run approved or is approving for `node`. */
  clientApprovals(node: string): number {
    return this.clients.get(node)?.size ?? 0;
  }

  // The outcomes, one event each.

  /** An approval is about to be sent (the storm guard counts it from now). */
  approvalSent(csr: Csr, approval: Approval): void {
    this.unconfirmed.delete(csr.name);
    this.sending.set(csr.name, this.entry(csr, approval));
    this.countClient(csr, approval);
  }

  /** A dry run's decision to approve: recorded as this run's, nothing sent. */
  approvedInDryRun(csr: Csr, approval: Approval): void {
    this.unconfirmed.delete(csr.name);
    this.approved.set(csr.name, { ...this.entry(csr, approval), dryRun: true });
    this.countClient(csr, approval);
  }

  /**
   * The server took it: the approval is this run's. `current`: the CSR as the cache shows it now
   * (the signer's update may have been seen before this answer, its certificate issued).
   */
  approvalConfirmed(name: string, current?: Csr): Ended & { issued?: Issued | undefined } {
    const entry = this.sending.get(name);
    const ended = this.failures.end(name);
    if (!entry) return { ended };
    this.sending.delete(name);
    this.approved.set(name, entry);
    return { ended, issued: current?.uid === entry.uid ? this.issuedOn(current) : undefined };
  }

  /** The server says the request is gone, or decided by someone else: not approved by this run. */
  approvalWithdrawn(name: string): void {
    this.failures.end(name);
    this.unsend(name);
  }

  /**
   * The approval got an error or no answer: the server may still have taken it (it waits as
   * unconfirmed), and the request's failure streak goes on, with its next attempt after the backoff.
   */
  approvalFailed(csr: Csr, approval: Approval, failure: { readonly code: string; readonly reason: string }, now: number): { streak: FailingApproval; first: boolean } {
    const entry = this.unsend(csr.name);
    if (entry) this.unconfirmed.set(csr.name, entry);
    return this.failures.failed(csr, approval, failure, now);
  }

  /** The approver stopped while an approval was on its way and it got no answer: unconfirmed, and no streak (nothing retries it). */
  approvalAbandoned(name: string): void {
    const entry = this.unsend(name);
    if (entry) this.unconfirmed.set(name, entry);
  }

  /**
   * The cluster shows the CSR approved. `late`: an approval of ours whose answer was lost (a PUT
   * timed out while etcd was stopped) and that the server took after all, so it is this run's,
   * counted and reported; `issued`: a client certificate issued on this run's approval. A failing
   * approval's streak ends, unless our approval is on its way (its answer says how it ended).
   */
  csrApproved(csr: Csr, approvedByUs: boolean): Ended & { late?: Approval | undefined; issued?: Issued | undefined } {
    const ended = this.sending.has(csr.name) ? undefined : this.failures.end(csr.name);
    const late = this.confirmedLate(csr, approvedByUs);
    return { ended, late, issued: this.issuedOn(csr) };
  }

  /** The CSR was denied, or failed by the signer. */
  csrRejected(name: string): Ended {
    return { ended: this.failures.end(name) };
  }

  /**
   * A CSR the cluster deleted; `keepApproval`: the action keeps it for approved-csrs. Either way a
   * client approval stays in the storm guard's count (see `clients`).
   */
  csrDeleted(name: string, keepApproval: boolean): Ended {
    this.unconfirmed.delete(name);
    this.refusedCsrs.delete(name);
    if (!keepApproval && !this.sending.has(name)) this.approved.delete(name);
    return { ended: this.failures.end(name) };
  }

  /** The policy refused the request; `change` is 'new' for a request not refused before (a metric counts each once). */
  refused(csr: Csr, refusal: Refusal): Ended & { change: 'new' | 'changed' | 'same' } {
    const ended = this.failures.end(csr.name);
    const previous = this.refusedCsrs.get(csr.name);
    const same = previous?.uid === csr.uid;
    if (same && previous.reason === refusal.reason) return { ended, change: 'same' };
    const lifetime = csr.expirationSeconds === undefined ? {} : { expirationSeconds: csr.expirationSeconds };
    this.refusedCsrs.set(csr.name, { name: csr.name, signer: csr.signerName, requestor: csr.username, node: refusal.node, reason: refusal.reason, uid: csr.uid, ...lifetime });
    return { ended, change: same ? 'changed' : 'new' };
  }

  /** The policy does not decide on the request (not a kubelet's, or a node's own client renewal). */
  ignored(name: string): Ended {
    return { ended: this.failures.end(name) };
  }

  /** A machine no longer listed: its counters go with it. */
  nodeUnlisted(node: string): void {
    this.clients.delete(node);
    this.issued.delete(node);
  }

  // What the approver reports.

  /** Refused requests (with the uid refused), for re-deciding and reporting. */
  refusals(): Iterable<RefusedCsr & { uid: string }> {
    return this.refusedCsrs.values();
  }

  /** Refusals of requests this run has not since approved, as reported. */
  standingRefusals(): RefusedCsr[] {
    return [...this.refusedCsrs.values()]
      .filter((r) => !this.isApproved(r))
      .map(({ name, signer, requestor, node, reason, expirationSeconds }) => ({ name, signer, requestor, node, reason, ...(expirationSeconds === undefined ? {} : { expirationSeconds }) }));
  }

  issuedClientCertificates(node: string): number {
    return this.issued.get(node)?.size ?? 0;
  }

  /** Requests the policy allows whose approval is failing now, with since when and why. */
  failingApprovals(): FailingApproval[] {
    return this.failures.all();
  }

  /** Names with anything kept (after a re-list, those the list lacks are forgotten). */
  names(): Set<string> {
    return new Set([...this.sending.keys(), ...this.approved.keys(), ...this.unconfirmed.keys(), ...this.refusedCsrs.keys()]);
  }

  /** This run's approvals, in decision order. */
  approvedNames(): string[] {
    return [...this.approved].sort(([, a], [, b]) => a.seq - b.seq).map(([name]) => name);
  }

  /** This run's approvals that asked for a lifetime (spec.expirationSeconds), in decision order. */
  requestedDurations(): Array<{ name: string; expirationSeconds: number }> {
    return this.approvedNames().flatMap((name) => {
      const asked = this.approved.get(name)?.expirationSeconds;
      return asked === undefined ? [] : [{ name, expirationSeconds: asked }];
    });
  }

  retained(): { refused: number; approved: number; dispatched: number; nodes: ReadonlySet<string> } {
    return { refused: this.refusedCsrs.size, approved: this.approved.size, dispatched: this.sending.size + this.approved.size, nodes: new Set([...this.clients.keys(), ...this.issued.keys()]) };
  }

  private isApproved(csr: { readonly name: string; readonly uid: string }): boolean {
    return this.approved.get(csr.name)?.uid === csr.uid;
  }

  private entry(csr: Csr, approval: Approval): Entry {
    return { uid: csr.uid, node: approval.node, phase: approval.phase, seq: this.seq++, expirationSeconds: csr.expirationSeconds };
  }

  /** An approval no longer on its way, and not counted (the caller says where it goes). */
  private unsend(name: string): Entry | undefined {
    const entry = this.sending.get(name);
    if (!entry) return undefined;
    this.sending.delete(name);
    const requests = this.clients.get(entry.node);
    requests?.delete(`${name}/${entry.uid}`);
    if (requests?.size === 0) this.clients.delete(entry.node);
    return entry;
  }

  private confirmedLate(csr: Csr, approvedByUs: boolean): Approval | undefined {
    const entry = this.unconfirmed.get(csr.name);
    if (!entry) return undefined;
    this.unconfirmed.delete(csr.name);
    if (!approvedByUs || entry.uid !== csr.uid || this.isApproved(csr)) return undefined;
    this.approved.set(csr.name, entry);
    const approval: Approval = { kind: 'approve', node: entry.node, phase: entry.phase };
    this.countClient(csr, approval);
    return approval;
  }

  /** Counts an issued client certificate of this run's approval; the node's count when it is a new one. */
  private issuedOn(csr: Csr): Issued | undefined {
    if (!csr.issued) return undefined;
    const entry = this.approved.get(csr.name);
    if (!entry || entry.uid !== csr.uid || entry.phase !== 'client' || entry.dryRun) return undefined;
    let names = this.issued.get(entry.node);
    if (!names) this.issued.set(entry.node, (names = new Set()));
    if (names.has(csr.name)) return undefined;
    names.add(csr.name);
    return { node: entry.node, count: names.size };
  }

  private countClient(csr: Csr, approval: Approval): void {
    if (approval.phase !== 'client') return;
    let requests = this.clients.get(approval.node);
    if (!requests) this.clients.set(approval.node, (requests = new Set()));
    requests.add(`${csr.name}/${csr.uid}`);
  }
}
