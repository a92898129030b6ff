import { APPROVAL_REASON, type ClusterGateway } from '../cluster/gateway.ts';
import type { Informer, InformerStats } from '../cluster/informer.ts';
import type { Csr, NodeInfo } from '../cluster/objects.ts';
import type { Log } from '../log.ts';
import type { ExpectedNode } from '../settings/settings.ts';
import { addressKey, CLIENT_SIGNER, decide, REASONS, SERVING_SIGNER, type Phase, type ReasonCode, type Verdict } from './policy.ts';
import { RequestCache } from './request-cache.ts';
import { parseCertificateRequest } from './x509.ts';

export interface RefusedCsr {
  readonly name: string;
  readonly signer: string;
  readonly requestor: string;
  readonly node: string;
  readonly reason: ReasonCode;
}

export interface NodeStatus {
  readonly name: string;
  readonly ready: boolean;
  readonly clientApproved: boolean;
  readonly servingIssued: boolean;
  /** Client certificates issued for this node name on requests this run approved. */
  readonly clientCertificates: number;
}

/** A listed node's progress as derived from the caches (its certificate count is kept apart). */
type Progress = Omit<NodeStatus, 'clientCertificates'> & { readonly registered: boolean };

export interface TimelineEntry {
  readonly at: number;
  readonly node: string;
  readonly event: 'client approved' | 'serving approved' | 'registered' | 'serving issued' | 'ready';
}

export interface ApproverOptions {
  readonly expected: readonly ExpectedNode[];
  readonly dryRun: boolean;
  readonly pollIntervalMs: number;
  readonly log: Log;
  /** Approvals in flight at once. */
  readonly concurrency?: number;
  /** Told of each approval, and of each refused CSR once (the --watch service's metrics). */
  readonly events?: ApproverEvents;
  /**
   * Keep every approval of the run for the output, also of CSRs the cluster has since deleted
   * (default). The --watch service lives for months: it forgets a deleted CSR entirely and keeps
   * only each node's latest time per timeline event.
   */
  readonly retainHistory?: boolean;
}

export interface ApproverEvents {
  approved(phase: Phase): void;
  refused(reason: ReasonCode): void;
}

/**
 * Keeps approving the verified kubelet CSRs of the listed machines: client requests first
 * (newest first: the kubelet only waits on its latest), then serving requests. Runs from
 * start() until stop(), so late kubelets and renewals are served while later phases run.
 */
export class CsrApprover {
  private readonly csrs: Informer<Csr>;
  private readonly nodes: Informer<NodeInfo>;
  private expected: ReadonlyMap<string, ExpectedNode>;
  /**
   * By name, with the uid: a kubelet names its CSR after its key and subject (node-csr-<hash>),
   * so a deleted request can come back under the same name, and that one is a new request.
   */
  private readonly approved = new Map<string, { node: string; phase: Phase; uid: string }>();
  private readonly refused = new Map<string, RefusedCsr & { uid: string }>();
  private readonly inFlight = new Set<string>();
  /** Order in which approvals were decided (client first, newest first), for the output. */
  private readonly dispatchOrder = new Map<string, number>();
  private readonly clientApprovals = new Map<string, number>();
  /**
   * Per listed node, the client CSRs this run (or this --watch process) approved whose certificate
   * was issued. Kept across CSR garbage collection while the name is listed: a second certificate
   * for one name is what a copied bootstrap credential looks like.
   */
  private readonly issuedClientCertificates = new Map<string, Set<string>>();
  private readonly requests = new RequestCache();
  /** Approvals that failed on our side (no answer); the server may still have taken them. */
  private readonly unconfirmed = new Map<string, { uid: string; verdict: Extract<Verdict, { kind: 'approve' }> }>();
  private readonly readyAtStart = new Set<string>();
  // Incremental evaluation (a thousand machines file two thousand CSRs; re-deciding every CSR and
  // re-deriving every node's progress on each watch event was quadratic): only what changed since
  // the last evaluation is looked at, everything after a re-list or an inventory change.
  /** Names of the CSRs changed since the last evaluation. */
  private readonly changedCsrs = new Set<string>();
  /** Names of the Nodes changed since the last evaluation. */
  private readonly changedNodes = new Set<string>();
  private everythingChanged = true;
  /** Refused CSRs are decided again when what a refusal depends on changed (Nodes, approval counts). */
  private redecideRefused = false;
  /** The Nodes, kept from the informer's events. */
  private nodeMap = new Map<string, NodeInfo>();
  /** Address keys (and names) -> the listed machines, and the Nodes, holding them. */
  private expectedHolders = new Map<string, Set<string>>();
  private readonly nodeHolders = new Map<string, Set<string>>();
  private readonly nodeKeys = new Map<string, string[]>();
  /** Listed nodes with an approved client CSR / an issued serving certificate seen (sticky). */
  private readonly clientApprovedNodes = new Set<string>();
  private readonly servingIssuedNodes = new Set<string>();
  /** Listed nodes Ready with their serving certificate. */
  private readonly doneNodes = new Set<string>();
  private readonly progress = new Map<string, Progress>();
  private readonly waiters: Array<() => void> = [];
  private readonly queue: Array<{ csr: Csr; verdict: Extract<Verdict, { kind: 'approve' }> }> = [];
  private readonly events: TimelineEntry[] = [];
  private evaluationScheduled = false;
  private running = 0;
  private stopped = false;
  private failure: Error | undefined;

  private readonly gateway: ClusterGateway;
  private readonly options: ApproverOptions;
  private readonly concurrency: number;

  constructor(gateway: ClusterGateway, options: ApproverOptions) {
    this.gateway = gateway;
    this.options = options;
    this.concurrency = options.concurrency ?? 16;
    this.expected = new Map(options.expected.map((n) => [n.name, n]));
    this.csrs = gateway.csrInformer(options.pollIntervalMs);
    this.nodes = gateway.nodeInformer(options.pollIntervalMs);
    for (const name of this.expected.keys()) {
      this.progress.set(name, { name, ready: false, clientApproved: false, servingIssued: false, registered: false });
    }
    this.indexExpected();
  }

  /** Replaces the inventory (a watched nodes file changed); newly listed machines are served at once. */
  updateExpected(nodes: readonly ExpectedNode[]): void {
    const next = new Map(nodes.map((n) => [n.name, n]));
    const same = next.size === this.expected.size && [...next].every(([name, n]) => JSON.stringify(this.expected.get(name)) === JSON.stringify(n));
    if (same) return;
    this.expected = next;
    for (const name of this.progress.keys()) if (!next.has(name)) this.forgetNode(name);
    for (const name of next.keys()) {
      if (!this.progress.has(name)) this.progress.set(name, { name, ready: false, clientApproved: false, servingIssued: false, registered: false });
    }
    this.options.log.info(`inventory now lists ${[...next.keys()].join(', ') || 'no machine'}`);
    this.indexExpected();
    this.clientApprovedNodes.clear();
    this.servingIssuedNodes.clear();
    for (const name of this.doneNodes) if (!next.has(name)) this.doneNodes.delete(name);
    this.everythingChanged = true;
    this.scheduleEvaluation();
  }

  /** Lists CSRs and nodes, approves what is pending, and keeps watching. */
  async start(): Promise<void> {
    await Promise.all([this.csrs.start(), this.nodes.start()]);
    for (const node of this.nodes.values()) {
      if (this.expected.has(node.name) && node.ready) this.readyAtStart.add(node.name);
    }
    this.indexNodes();
    this.csrs.onChange((event, csr) => {
      if (event === 'SYNC' || !csr) {
        this.forgetDeletedCsrs();
        this.everythingChanged = true;
      } else if (event === 'DELETED') this.forgetCsr(csr.name, csr);
      else this.changedCsrs.add(csr.name);
      this.scheduleEvaluation();
    });
    this.nodes.onChange((event, node) => {
      if (event === 'SYNC' || !node) {
        this.indexNodes();
        this.everythingChanged = true;
      } else {
        this.indexNode(node.name, event === 'DELETED' ? undefined : node);
        this.changedNodes.add(node.name);
      }
      this.redecideRefused = true;
      this.scheduleEvaluation();
    });
    this.everythingChanged = true;
    this.evaluate();
  }

  stop(): void {
    this.stopped = true;
    this.csrs.stop();
    this.nodes.stop();
    this.wake();
  }

  /** Resolves when every listed node is Ready with its serving certificate issued, or at the deadline. */
  async waitForNodes(deadline: number): Promise<boolean> {
    while (!this.allDone()) {
      if (this.failure) throw this.failure;
      const left = deadline - Date.now();
      if (left <= 0 || this.stopped) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return true;
  }

  /** Resolves once every approval decided so far has been sent (dry-run: immediately). */
  async settled(): Promise<void> {
    while ((this.queue.length > 0 || this.running > 0 || this.evaluationScheduled) && !this.stopped) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  approvedCsrs(): string[] {
    const order = (name: string) => this.dispatchOrder.get(name) ?? Infinity;
    return [...this.approved.keys()].sort((a, b) => order(a) - order(b));
  }

  /** Refused requests still Pending (one approved by someone else or deleted is no longer ours to report). */
  refusedCsrs(): RefusedCsr[] {
    return [...this.refused.values()]
      .filter((r) => this.approved.get(r.name)?.uid !== r.uid && this.csrs.get(r.name)?.state === 'pending')
      .map(({ name, signer, requestor, node, reason }) => ({ name, signer, requestor, node, reason }));
  }

  nodeStatuses(): NodeStatus[] {
    return [...this.progress.values()].map(({ name, ready, clientApproved, servingIssued }) => ({
      name,
      ready,
      clientApproved,
      servingIssued,
      clientCertificates: this.issuedClientCertificates.get(name)?.size ?? 0,
    }));
  }

  /** When each listed node reached each step (the --watch service keeps only the latest of each). */
  get timeline(): readonly TimelineEntry[] {
    return this.events;
  }

  /** Entries kept per CSR and per node, for tests and metrics: each should follow the work in hand. */
  retained(): Record<'requests' | 'refused' | 'approved' | 'dispatched' | 'timeline' | 'nodeCounters', number> {
    const nodeCounters = new Set([...this.clientApprovals.keys(), ...this.issuedClientCertificates.keys(), ...this.readyAtStart]).size;
    return { requests: this.requests.size, refused: this.refused.size, approved: this.approved.size, dispatched: this.dispatchOrder.size, timeline: this.events.length, nodeCounters };
  }

  private record(entry: TimelineEntry): void {
    if (this.options.retainHistory === false) {
      const previous = this.events.findIndex((e) => e.node === entry.node && e.event === entry.event);
      if (previous >= 0) this.events.splice(previous, 1);
    }
    this.events.push(entry);
  }

  /** A CSR the cluster deleted (garbage collection, or by hand): nothing about it is kept. */
  private forgetCsr(name: string, csr: Csr | undefined): void {
    if (csr) this.requests.forget(csr);
    if (this.inFlight.has(name)) return;
    this.unconfirmed.delete(name);
    this.refused.delete(name);
    if (this.options.retainHistory !== false) return;
    this.approved.delete(name);
    this.dispatchOrder.delete(name);
  }

  /** After a re-list: what the list no longer holds was deleted while no watch said so. */
  private forgetDeletedCsrs(): void {
    this.requests.retainOnly(this.csrs.values());
    for (const name of new Set([...this.refused.keys(), ...this.approved.keys(), ...this.unconfirmed.keys(), ...this.dispatchOrder.keys()])) {
      if (!this.csrs.get(name)) this.forgetCsr(name, undefined);
    }
  }

  /** A machine no longer listed: its progress, counters and timeline go with it. */
  private forgetNode(name: string): void {
    this.progress.delete(name);
    this.readyAtStart.delete(name);
    this.clientApprovals.delete(name);
    this.issuedClientCertificates.delete(name);
    for (let i = this.events.length - 1; i >= 0; i--) if (this.events[i]!.node === name) this.events.splice(i, 1);
  }

  /** Counts a client certificate issued on a request this run approved; warns from the second one on. */
  private noteClientIssued(csr: Csr): void {
    const approval = this.approved.get(csr.name);
    if (!csr.issued || csr.signerName !== CLIENT_SIGNER || approval?.phase !== 'client' || approval.uid !== csr.uid || this.options.dryRun) return;
    let issued = this.issuedClientCertificates.get(approval.node);
    if (!issued) this.issuedClientCertificates.set(approval.node, (issued = new Set()));
    if (issued.has(csr.name)) return;
    issued.add(csr.name);
    if (issued.size > 1) this.options.log.warning(clientCertificatesWarning(approval.node, issued.size));
  }

  informerStats(): InformerStats[] {
    return [this.csrs.stats(), this.nodes.stats()];
  }

  /** Pending kubelet CSRs (client or serving) of the listed machines. */
  pendingListedCsrs(): number {
    let count = 0;
    for (const csr of this.csrs.values()) {
      if (csr.state !== 'pending' || (csr.signerName !== CLIENT_SIGNER && csr.signerName !== SERVING_SIGNER)) continue;
      const node = this.requests.nodeOf(csr);
      if (node !== undefined && this.expected.has(node)) count++;
    }
    return count;
  }

  allDone(): boolean {
    return this.doneNodes.size === this.progress.size;
  }

  private isDone(p: Progress): boolean {
    return p.ready && (p.servingIssued || this.readyAtStart.has(p.name));
  }

  /** For each unfinished node, what it still lacks, in words. */
  missing(): Array<{ node: string; lacks: string }> {
    const unfinished = [...this.progress.values()].filter((p) => !this.isDone(p));
    if (unfinished.length === 0) return [];
    // One pass over the CSRs and refusals for all unfinished nodes.
    const wanted = new Set(unfinished.map((p) => p.name));
    const csrsOf = new Map<string, Csr[]>();
    for (const csr of this.csrs.values()) {
      const node = this.requests.nodeOf(csr);
      if (node === undefined || !wanted.has(node)) continue;
      let list = csrsOf.get(node);
      if (!list) csrsOf.set(node, (list = []));
      list.push(csr);
    }
    const refusalsOf = new Map<string, RefusedCsr[]>();
    for (const r of this.refused.values()) {
      if (!wanted.has(r.node) || this.approved.has(r.name)) continue;
      let list = refusalsOf.get(r.node);
      if (!list) refusalsOf.set(r.node, (list = []));
      list.push(r);
    }
    return unfinished.map((p) => ({ node: p.name, lacks: this.describeLack(p, csrsOf.get(p.name) ?? [], refusalsOf.get(p.name) ?? []) }));
  }

  private describeLack(p: Progress, csrs: readonly Csr[], refusals: readonly RefusedCsr[]): string {
    const mine = (signer: string) => csrs.filter((c) => c.signerName === signer);
    const refusal = (signer: string) => refusals.find((r) => r.signer === signer);
    if (!p.registered) {
      const clients = mine(CLIENT_SIGNER);
      if (clients.some((c) => c.state === 'approved' && c.issued)) return 'client certificate issued, Node not registered';
      if (clients.some((c) => c.state === 'approved')) return 'client CSR approved but no certificate issued (is the cluster signer running?)';
      const refused = refusal(CLIENT_SIGNER);
      if (refused) return `client CSR ${refused.name} refused: ${refused.reason}`;
      return 'no client CSR seen (machine not booted, or cannot reach the API server)';
    }
    if (!p.servingIssued && !this.readyAtStart.has(p.name)) {
      const serving = mine(SERVING_SIGNER);
      if (serving.some((c) => c.state === 'approved')) return 'serving CSR approved but no certificate issued';
      const refused = refusal(SERVING_SIGNER);
      if (refused) return `serving CSR ${refused.name} refused: ${refused.reason}`;
      return 'no serving CSR seen';
    }
    return 'not Ready';
  }

  /** The listed machines' names and declared addresses, for the SAN ownership check. */
  private indexExpected(): void {
    this.expectedHolders = new Map();
    for (const [name, machine] of this.expected) {
      for (const key of [name, ...machine.ips, ...machine.dnsNames]) holders(this.expectedHolders, key).add(name);
    }
  }

  private indexNodes(): void {
    const nodes = this.nodes.values();
    for (const name of [...this.nodeKeys.keys()]) this.indexNode(name, undefined);
    this.nodeMap = new Map(nodes.map((n) => [n.name, n]));
    for (const node of nodes) this.indexNode(node.name, node);
  }

  /** Records a Node's names and addresses (undefined: the Node is gone). */
  private indexNode(name: string, node: NodeInfo | undefined): void {
    for (const key of this.nodeKeys.get(name) ?? []) {
      const set = this.nodeHolders.get(key);
      set?.delete(name);
      if (set?.size === 0) this.nodeHolders.delete(key);
    }
    this.nodeKeys.delete(name);
    if (!node) {
      this.nodeMap.delete(name);
      return;
    }
    this.nodeMap.set(name, node);
    const keys = [name, ...node.addresses.map((a) => addressKey(a.address))];
    this.nodeKeys.set(name, keys);
    for (const key of keys) holders(this.nodeHolders, key).add(name);
  }

  /** A holder of `key` other than `except`: a listed machine first, as the policy's own scan would name. */
  private addressOwner(key: string, except: string): string | undefined {
    for (const index of [this.expectedHolders, this.nodeHolders]) {
      let owner: string | undefined;
      for (const name of index.get(key) ?? []) if (name !== except) owner = name;
      if (owner !== undefined) return owner;
    }
    return undefined;
  }

  private scheduleEvaluation(): void {
    if (this.evaluationScheduled || this.stopped) return;
    this.evaluationScheduled = true;
    setImmediate(() => {
      this.evaluationScheduled = false;
      this.evaluate();
    });
  }

  private evaluate(): void {
    if (this.stopped) return;
    const everything = this.everythingChanged;
    const changed = new Map<string, Csr>();
    if (everything) {
      for (const csr of this.csrs.values()) changed.set(csr.name, csr);
    } else {
      for (const name of this.changedCsrs) {
        const csr = this.csrs.get(name);
        if (csr) changed.set(name, csr);
      }
    }
    this.updateProgress(everything, changed.values(), this.changedNodes);
    const candidates = new Map(changed);
    if (!everything && this.redecideRefused) {
      for (const name of this.refused.keys()) {
        const csr = this.csrs.get(name);
        if (csr) candidates.set(name, csr);
      }
    }
    this.everythingChanged = false;
    this.redecideRefused = false;
    this.changedCsrs.clear();
    this.changedNodes.clear();
    const context = {
      expected: this.expected,
      nodes: this.nodeMap,
      clientApprovals: (node: string) => this.clientApprovals.get(node) ?? 0,
      parse: (csr: Csr) => this.requests.parse(csr) ?? parseCertificateRequest(csr.request),
      addressOwner: (key: string, except: string) => this.addressOwner(key, except),
    };
    const pending = [...candidates.values()]
      .filter((c) => c.state === 'pending' && !this.inFlight.has(c.name) && this.approved.get(c.name)?.uid !== c.uid)
      .sort((a, b) => phaseRank(a) - phaseRank(b) || b.createdAt - a.createdAt || a.name.localeCompare(b.name));
    // A burst is decided a slice at a time: the first approvals leave at once, and the watch
    // streams are read in between (an API server drops a watcher that falls behind).
    for (const csr of pending.splice(DECISIONS_PER_PASS)) this.changedCsrs.add(csr.name);
    if (this.changedCsrs.size > 0) this.scheduleEvaluation();
    for (const csr of pending) {
      const verdict = decide(csr, context);
      if (verdict.kind === 'ignore') continue;
      if (verdict.kind === 'refuse') {
        this.recordRefusal(csr, verdict);
        continue;
      }
      if (verdict.phase === 'client') this.clientApprovals.set(verdict.node, (this.clientApprovals.get(verdict.node) ?? 0) + 1);
      this.inFlight.add(csr.name);
      this.dispatchOrder.set(csr.name, this.dispatchOrder.size);
      this.queue.push({ csr, verdict });
    }
    this.pump();
    this.wake();
  }

  private recordRefusal(csr: Csr, verdict: Extract<Verdict, { kind: 'refuse' }>): void {
    const previous = this.refused.get(csr.name);
    const same = previous?.uid === csr.uid;
    if (same && previous.reason === verdict.reason) return;
    if (!same) this.options.events?.refused(verdict.reason);
    this.refused.set(csr.name, { name: csr.name, signer: csr.signerName, requestor: csr.username, node: verdict.node, reason: verdict.reason, uid: csr.uid });
    this.options.log.info(
      `refused ${verdict.phase} CSR ${csr.name}${verdict.node ? ` for ${verdict.node}` : ''}: ${verdict.reason} (${verdict.detail}; ${REASONS[verdict.reason]})`,
    );
  }

  private pump(): void {
    while (this.running < this.concurrency && this.queue.length > 0) {
      const next = this.queue.shift()!;
      this.running++;
      void this.approve(next.csr, next.verdict).finally(() => {
        this.running--;
        this.inFlight.delete(next.csr.name);
        // deleted while its approval was in flight: forget it now (forgetCsr waited for this)
        if (!this.csrs.get(next.csr.name)) this.forgetCsr(next.csr.name, undefined);
        this.pump();
        this.wake();
      });
    }
  }

  private async approve(csr: Csr, verdict: Extract<Verdict, { kind: 'approve' }>): Promise<void> {
    const what = `${verdict.phase} CSR ${csr.name} for ${verdict.node}`;
    if (this.options.dryRun) {
      this.approved.set(csr.name, { node: verdict.node, phase: verdict.phase, uid: csr.uid });
      this.options.log.info(`would approve ${what} (dry-run)`);
      return;
    }
    try {
      const outcome = await this.gateway.approveCsr(
        csr,
        `Approved by openshift-finish-install: ${verdict.phase} identity of listed machine ${verdict.node} verified`,
      );
      this.unconfirmed.delete(csr.name);
      if (outcome === 'approved') {
        this.approved.set(csr.name, { node: verdict.node, phase: verdict.phase, uid: csr.uid });
        this.options.events?.approved(verdict.phase);
        // The signer's update may have been seen before this answer.
        const current = this.csrs.get(csr.name);
        if (current?.uid === csr.uid) this.noteClientIssued(current);
        this.record({ at: Date.now(), node: verdict.node, event: verdict.phase === 'client' ? 'client approved' : 'serving approved' });
        this.options.log.info(`approved ${what}`);
      } else {
        this.releaseClientSlot(verdict);
        this.options.log.info(`${what}: ${outcome === 'gone' ? 'deleted (or replaced) before approval' : `${outcome} by someone else`}`);
      }
    } catch (error) {
      this.releaseClientSlot(verdict);
      this.unconfirmed.set(csr.name, { uid: csr.uid, verdict });
      // Decided again at the next evaluation, as are the refusals the lower count may lift.
      this.changedCsrs.add(csr.name);
      this.redecideRefused = true;
      if (this.stopped) return;
      const status = (error as { status?: number }).status;
      if (status === 401 || status === 403) {
        this.failure = new Error(`${(error as Error).message}. Grant the role in deploy/rbac.yaml to the action's identity.`);
      }
      this.options.log.warning(`could not approve ${what}: ${(error as Error).message}`);
    }
  }

  /**
   * A request whose approval failed on our side (a PUT timed out while etcd was stopped) and that
   * the server took after all: it is ours, so it counts and is reported as approved by this run.
   */
  private confirmLateApproval(csr: Csr): void {
    const attempt = this.unconfirmed.get(csr.name);
    if (!attempt) return;
    this.unconfirmed.delete(csr.name);
    if (attempt.uid !== csr.uid || csr.approvedBy !== APPROVAL_REASON || this.approved.get(csr.name)?.uid === csr.uid) return;
    const { node, phase } = attempt.verdict;
    this.approved.set(csr.name, { node, phase, uid: csr.uid });
    this.options.events?.approved(phase);
    if (phase === 'client') this.clientApprovals.set(node, (this.clientApprovals.get(node) ?? 0) + 1);
    this.record({ at: Date.now(), node, event: phase === 'client' ? 'client approved' : 'serving approved' });
    this.options.log.info(`approved ${phase} CSR ${csr.name} for ${node} (the answer to our request was lost; the server took it)`);
  }

  /** The storm guard counts approvals this run made; a request it did not approve frees its slot. */
  private releaseClientSlot(verdict: Extract<Verdict, { kind: 'approve' }>): void {
    if (verdict.phase !== 'client') return;
    const left = (this.clientApprovals.get(verdict.node) ?? 0) - 1;
    if (left > 0) this.clientApprovals.set(verdict.node, left);
    else this.clientApprovals.delete(verdict.node);
  }

  /** Progress of the listed nodes that `csrs` and `nodes` concern (all of them with `everything`). */
  private updateProgress(everything: boolean, csrs: Iterable<Csr>, nodes: Iterable<string>): void {
    const touched = new Set<string>(everything ? this.progress.keys() : nodes);
    for (const csr of csrs) {
      if (csr.state !== 'approved') continue;
      this.confirmLateApproval(csr);
      this.noteClientIssued(csr);
      const node = this.requests.nodeOf(csr);
      if (!node || !this.expected.has(node)) continue;
      if (csr.signerName === SERVING_SIGNER && csr.issued) this.servingIssuedNodes.add(node);
      else if (csr.signerName === CLIENT_SIGNER) this.clientApprovedNodes.add(node);
      else continue;
      touched.add(node);
    }
    for (const name of touched) {
      const before = this.progress.get(name);
      if (!before) continue;
      const node = this.nodeMap.get(name);
      const after = {
        name,
        registered: node !== undefined,
        ready: node?.ready ?? false,
        clientApproved: before.clientApproved || this.clientApprovedNodes.has(name) || node !== undefined,
        servingIssued: before.servingIssued || this.servingIssuedNodes.has(name),
      };
      const at = Date.now();
      if (after.registered && !before.registered) this.transition(name, 'registered', at, 'registered its Node');
      if (after.servingIssued && !before.servingIssued) this.transition(name, 'serving issued', at, 'has its serving certificate');
      if (after.ready && !before.ready) this.transition(name, 'ready', at, 'is Ready');
      if (!after.ready && before.ready) this.options.log.info(`node ${name} is no longer Ready`);
      this.progress.set(name, after);
      if (this.isDone(after)) this.doneNodes.add(name);
      else this.doneNodes.delete(name);
    }
  }

  private transition(node: string, event: TimelineEntry['event'], at: number, words: string): void {
    this.record({ at, node, event });
    this.options.log.info(`node ${node} ${words}`);
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }
}

/** The warning for a node name with more than one client certificate (log, job summary, CLI report). */
export function clientCertificatesWarning(node: string, count: number): string {
  return `${count} client certificates were issued for node ${node} in this run: a kubelet that asked again after a timeout does this, and so does a second machine using the bootstrap credential under this name; check that only one machine is ${node}`;
}

const phaseRank = (csr: Csr): number => (csr.signerName === CLIENT_SIGNER ? 0 : 1);

/** CSRs decided per evaluation pass (each new one costs a parse and a signature check). */
const DECISIONS_PER_PASS = 32;

function holders(index: Map<string, Set<string>>, key: string): Set<string> {
  let set = index.get(key);
  if (!set) index.set(key, (set = new Set()));
  return set;
}
