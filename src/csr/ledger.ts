import type { Csr } from '../cluster/objects.ts';
import type { Phase, ReasonCode, Verdict } from './policy.ts';

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

/** One approval of this run: the request (by uid), what it was for, and when it was decided. */
interface Entry {
  readonly uid: string;
  readonly node: string;
  readonly phase: Phase;
  /** Decision order (client first, newest first), for approved-csrs. */
  readonly seq: number;
  /** spec.expirationSeconds, when the request asks for a lifetime. */
  readonly expirationSeconds?: number | undefined;
}

/**
 * What this run did with each CSR, by name with the uid: a kubelet names its CSR after its key
 * and subject (node-csr-<hash>), so a deleted request can come back under the same name, and
 * that one is a new request. Approvals move sending -> approved, or back out (not ours after
 * all); one whose answer was lost waits as unconfirmed until the CSR shows who approved it.
 */
export class ApprovalLedger {
  private readonly sending = new Map<string, Entry>();
  private readonly approved = new Map<string, Entry>();
  private readonly unconfirmed = new Map<string, Entry>();
  private readonly refused = new Map<string, RefusedCsr & { uid: string }>();
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
  private seq = 0;

  /** An approval is about to be sent. */
  send(csr: Csr, verdict: Approval): void {
    this.unconfirmed.delete(csr.name);
    this.sending.set(csr.name, { uid: csr.uid, node: verdict.node, phase: verdict.phase, seq: this.seq++, expirationSeconds: csr.expirationSeconds });
    this.countClient(csr, verdict);
  }

  /** The server took it: the approval is this run's. */
  confirm(name: string): Approval | undefined {
    const entry = this.sending.get(name);
    if (!entry) return undefined;
    this.sending.delete(name);
    this.approved.set(name, entry);
    return { kind: 'approve', node: entry.node, phase: entry.phase };
  }

  /** Not approved by this run (gone, or someone else decided); `lost`: no answer, the server may still take it. */
  withdraw(name: string, lost: boolean): void {
    const entry = this.sending.get(name);
    if (!entry) return;
    this.sending.delete(name);
    this.uncountClient(name, entry);
    if (lost) this.unconfirmed.set(name, entry);
  }

  /**
   * A request whose approval failed on our side (a PUT timed out while etcd was stopped) and that
   * the server took after all: it is ours, so it counts and is reported as approved by this run.
   */
  confirmLate(csr: Csr, approvedByUs: boolean): Approval | undefined {
    const entry = this.unconfirmed.get(csr.name);
    if (!entry) return undefined;
    this.unconfirmed.delete(csr.name);
    if (!approvedByUs || entry.uid !== csr.uid || this.isApproved(csr)) return undefined;
    this.approved.set(csr.name, entry);
    const approval: Approval = { kind: 'approve', node: entry.node, phase: entry.phase };
    this.countClient(csr, approval);
    return approval;
  }

  isApproved(csr: { readonly name: string; readonly uid: string }): boolean {
    return this.approved.get(csr.name)?.uid === csr.uid;
  }

  isSending(name: string): boolean {
    return this.sending.has(name);
  }

  /** Client CSRs this run approved or is approving for `node`. */
  clientApprovals(node: string): number {
    return this.clients.get(node)?.size ?? 0;
  }

  /** Records a refusal; 'new' for a request not refused before (a metric counts each once). */
  refuse(csr: Csr, verdict: Extract<Verdict, { kind: 'refuse' }>): 'new' | 'changed' | 'same' {
    const previous = this.refused.get(csr.name);
    const same = previous?.uid === csr.uid;
    if (same && previous.reason === verdict.reason) return 'same';
    const lifetime = csr.expirationSeconds === undefined ? {} : { expirationSeconds: csr.expirationSeconds };
    this.refused.set(csr.name, { name: csr.name, signer: csr.signerName, requestor: csr.username, node: verdict.node, reason: verdict.reason, uid: csr.uid, ...lifetime });
    return same ? 'changed' : 'new';
  }

  /** Refused requests (with the uid refused), for re-deciding and reporting. */
  refusals(): Iterable<RefusedCsr & { uid: string }> {
    return this.refused.values();
  }

  /** Refusals of requests this run has not since approved, as reported. */
  standingRefusals(): RefusedCsr[] {
    return [...this.refused.values()]
      .filter((r) => !this.isApproved(r))
      .map(({ name, signer, requestor, node, reason, expirationSeconds }) => ({ name, signer, requestor, node, reason, ...(expirationSeconds === undefined ? {} : { expirationSeconds }) }));
  }

  /** Counts an issued client certificate of this run's approval; the node's count when it is a new one. */
  noteIssued(csr: Csr): { node: string; count: number } | undefined {
    const entry = this.approved.get(csr.name);
    if (!entry || entry.uid !== csr.uid || entry.phase !== 'client') return undefined;
    let names = this.issued.get(entry.node);
    if (!names) this.issued.set(entry.node, (names = new Set()));
    if (names.has(csr.name)) return undefined;
    names.add(csr.name);
    return { node: entry.node, count: names.size };
  }

  issuedClientCertificates(node: string): number {
    return this.issued.get(node)?.size ?? 0;
  }

  /**
   * A CSR the cluster deleted; `keepApproval`: the action keeps it for approved-csrs. Either way a
   * client approval stays in the storm guard's count (see `clients`).
   */
  forgetCsr(name: string, keepApproval: boolean): void {
    this.unconfirmed.delete(name);
    this.refused.delete(name);
    if (keepApproval || this.sending.has(name)) return;
    this.approved.delete(name);
  }

  /** A machine no longer listed: its counters go with it. */
  forgetNode(node: string): void {
    this.clients.delete(node);
    this.issued.delete(node);
  }

  /** Names with anything kept (after a re-list, those the list lacks are forgotten). */
  names(): Set<string> {
    return new Set([...this.sending.keys(), ...this.approved.keys(), ...this.unconfirmed.keys(), ...this.refused.keys()]);
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
    return { refused: this.refused.size, approved: this.approved.size, dispatched: this.sending.size + this.approved.size, nodes: new Set([...this.clients.keys(), ...this.issued.keys()]) };
  }

  private countClient(csr: Csr, approval: Approval): void {
    if (approval.phase !== 'client') return;
    let requests = this.clients.get(approval.node);
    if (!requests) this.clients.set(approval.node, (requests = new Set()));
    requests.add(`${csr.name}/${csr.uid}`);
  }

  private uncountClient(name: string, entry: Entry): void {
    const requests = this.clients.get(entry.node);
    requests?.delete(`${name}/${entry.uid}`);
    if (requests?.size === 0) this.clients.delete(entry.node);
  }
}
