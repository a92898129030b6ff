import type { ClusterGateway } from '../cluster/gateway.ts';
import type { Informer, InformerEvent, InformerStats } from '../cluster/informer.ts';
import type { Csr, NodeInfo } from '../cluster/objects.ts';
import { AddressIndex } from '../identity/addresses.ts';
import { CLIENT_SIGNER, isKubelet, SERVING_SIGNER } from '../identity/policy.ts';
import type { ExpectedNode } from '../settings/settings.ts';
import { approvalBackoff, type FailingApproval } from './failures.ts';
import { ApprovalLedger, type RefusedCsr } from './ledger.ts';
import { Lifecycle } from './lifecycle.ts';
import { APPROVALS_IN_FLIGHT, type ApproverEvents, type ApproverOptions } from './options.ts';
import { lacks } from './progress.ts';
import { Pool, WorkQueue } from './queue.ts';
import { Reconciler } from './reconcile.ts';
import { RequestCache } from './request-cache.ts';
import type { TimelineEntry } from './timeline.ts';
import { NodeTracker, type NodeStatus } from './tracker.ts';

export type { ApproverEvents, ApproverOptions, FailingApproval, NodeStatus, RefusedCsr, TimelineEntry };

/**
 * Keeps approving the verified kubelet CSRs of the listed machines: client requests first
 * (newest first: the kubelet only waits on its latest), then serving requests. One reconcile per
 * CSR: a watch event queues the names it affects, a worker decides that CSR and acts on it, and
 * each listed node's progress is derived from its Node and its CSRs when either changes. Runs
 * from start() until stop(), so late kubelets and renewals are served while later phases run.
 */
export class CsrApprover {
  private readonly options: ApproverOptions;
  private readonly informers: { readonly csrs: Informer<Csr>; readonly nodes: Informer<NodeInfo> };
  private expected: ReadonlyMap<string, ExpectedNode>;
  private readonly requests = new RequestCache();
  private readonly addresses = new AddressIndex();
  private readonly ledger: ApprovalLedger;
  private readonly queue: WorkQueue;
  private readonly nodes: NodeTracker;
  private readonly lifecycle = new Lifecycle();
  private readonly reconciler: Reconciler;
  /** The approvals being sent (a bounded number at once). */
  private readonly sender: Pool;

  constructor(gateway: ClusterGateway, options: ApproverOptions) {
    this.options = options;
    this.ledger = new ApprovalLedger(approvalBackoff(options.pollIntervalMs));
    this.informers = { csrs: gateway.csrInformer(options.pollIntervalMs), nodes: options.nodes ?? gateway.nodeInformer(options.pollIntervalMs) };
    this.nodes = new NodeTracker({
      facts: { node: (name) => this.informers.nodes.get(name), csrs: (name) => this.csrsOf(name), clientCertificates: (name) => this.ledger.issuedClientCertificates(name) },
      log: options.log,
      latestOnly: options.retainHistory === false,
      changed: () => this.lifecycle.wake(),
    });
    this.reconciler = new Reconciler(gateway, options, {
      ...this.informers,
      requests: this.requests,
      addresses: this.addresses,
      ledger: this.ledger,
      tracker: this.nodes,
      lifecycle: this.lifecycle,
      expected: () => this.expected,
      requeue: (name, afterMs) => (afterMs === undefined ? this.queue.add(name) : this.queue.addAfter(name, afterMs)),
      send: (approval) => this.sender.run(approval),
    });
    this.sender = new Pool(options.concurrency ?? APPROVALS_IN_FLIGHT, () => this.lifecycle.wake());
    // Reconciles never wait (approvals go to the sender), so one at a time is all it takes.
    this.queue = new WorkQueue((name) => this.reconciler.reconcile(name), {
      concurrency: 1,
      priority: (name) => this.priorityOf(name),
      onIdle: () => this.lifecycle.wake(),
      onError: (name, error) => options.log.warning(`CSR ${name}: ${(error as Error).message}`),
    });
    this.expected = new Map(options.expected.map((n) => [n.name, n]));
    this.nodes.list(this.expected.keys());
    this.addresses.setListed(this.expected.values());
  }

  /** Replaces the inventory (a watched nodes file changed); newly listed machines are served at once. */
  updateExpected(nodes: readonly ExpectedNode[]): void {
    const next = new Map(nodes.map((n) => [n.name, n]));
    const same = next.size === this.expected.size && [...next].every(([name, n]) => JSON.stringify(this.expected.get(name)) === JSON.stringify(n));
    if (same) return;
    this.expected = next;
    for (const name of this.nodes.list(next.keys())) this.ledger.nodeUnlisted(name);
    this.options.log.info(`inventory now lists ${[...next.keys()].join(', ') || 'no machine'}`);
    this.addresses.setListed(next.values());
    this.nodes.refresh();
    this.queueAll();
  }

  /** Lists CSRs and nodes, approves what is pending, and keeps watching. */
  async start(): Promise<void> {
    const { csrs, nodes } = this.informers;
    await Promise.all([csrs.start(), nodes.start()]);
    this.nodes.readyAtStart(nodes.values());
    this.addresses.setNodes(nodes.values());
    this.lifecycle.onStop(csrs.onChange((event, csr) => this.onCsr(event, csr)));
    this.lifecycle.onStop(nodes.onChange((event, node) => this.onNode(event, node)));
    this.nodes.refresh();
    this.queueAll();
  }

  stop(): void {
    this.lifecycle.stop();
    this.queue.stop();
    this.sender.stop();
    this.informers.csrs.stop();
    if (!this.options.nodes) this.informers.nodes.stop();
  }

  /** Resolves when every listed node is Ready with its serving certificate issued, or at the deadline. */
  async waitForNodes(deadline: number): Promise<boolean> {
    while (!this.allDone()) {
      this.lifecycle.throwIfFailed();
      const left = deadline - Date.now();
      if (left <= 0 || this.lifecycle.stopped) return false;
      await this.lifecycle.sleep(left);
    }
    return true;
  }

  /** Resolves once every approval decided so far has been sent (dry-run: immediately). */
  async settled(): Promise<void> {
    while ((this.queue.busy || this.sender.busy) && !this.lifecycle.stopped) await this.lifecycle.sleep(Infinity);
  }

  approvedCsrs(): string[] {
    return this.ledger.approvedNames();
  }

  /** This run's approvals that asked for a lifetime (spec.expirationSeconds). */
  requestedDurations(): Array<{ name: string; expirationSeconds: number }> {
    return this.ledger.requestedDurations();
  }

  /** Refused requests still Pending (one approved by someone else or deleted is no longer ours to report). */
  refusedCsrs(): RefusedCsr[] {
    return this.ledger.standingRefusals().filter((r) => this.informers.csrs.get(r.name)?.state === 'pending');
  }

  nodeStatuses(): NodeStatus[] {
    return this.nodes.statuses();
  }

  /** When each listed node reached each step (the --watch service keeps only the latest of each). */
  get timeline(): readonly TimelineEntry[] {
    return this.nodes.timeline;
  }

  /** Entries kept per CSR and per node, for tests and metrics: each should follow the work in hand. */
  retained(): Record<'requests' | 'refused' | 'approved' | 'dispatched' | 'timeline' | 'nodeCounters', number> {
    const { refused, approved, dispatched, nodes } = this.ledger.retained();
    return { requests: this.requests.size, refused, approved, dispatched, timeline: this.nodes.timeline.length, nodeCounters: new Set([...nodes, ...this.nodes.readyAtStartNames()]).size };
  }

  informerStats(): InformerStats[] {
    return [this.informers.csrs.stats(), this.informers.nodes.stats()];
  }

  /** Requests the policy allows whose approval is failing now, with since when and why. */
  failingApprovals(): FailingApproval[] {
    return this.ledger.failingApprovals();
  }

  /** Pending kubelet CSRs (client or serving) of the listed machines. */
  pendingListedCsrs(): number {
    let count = 0;
    for (const csr of this.informers.csrs.values()) {
      if (csr.state !== 'pending' || !isKubelet(csr)) continue;
      const node = this.requests.nodeOf(csr);
      if (node !== undefined && this.expected.has(node)) count++;
    }
    return count;
  }

  allDone(): boolean {
    return this.nodes.allDone();
  }

  /** For each unfinished node, what it still lacks, in words. */
  missing(): Array<{ node: string; lacks: string }> {
    const refusals = this.ledger.standingRefusals();
    return this.nodes
      .unfinished()
      .map((p) => ({ node: p.name, lacks: lacks(p, this.csrsOf(p.name), refusals.filter((r) => r.node === p.name)) }));
  }

  private onCsr(event: InformerEvent, csr: Csr | undefined): void {
    if (event === 'SYNC' || !csr) {
      // A re-list reports no deletions: what it no longer holds was deleted meanwhile.
      this.requests.retainOnly(this.informers.csrs.values());
      this.queue.addAll([...this.ledger.names()].filter((name) => !this.informers.csrs.get(name)));
      this.queueAll();
      return;
    }
    if (event === 'DELETED') this.requests.forget(csr);
    this.queue.add(csr.name);
  }

  private onNode(event: InformerEvent, node: NodeInfo | undefined): void {
    if (event === 'SYNC' || !node) {
      this.addresses.setNodes(this.informers.nodes.values());
      this.nodes.refresh();
    } else {
      this.addresses.setNode(node.name, event === 'DELETED' ? undefined : node);
      this.nodes.refresh([node.name]);
    }
    // What a refusal depends on (a Node's existence and addresses) may have changed.
    this.reconciler.requeueRefusals();
  }

  private queueAll(): void {
    this.queue.addAll(this.informers.csrs.values().map((csr) => csr.name));
  }

  /**
   * Client requests first, newest first (the kubelet only waits on its latest), then serving
   * requests; requests already decided by the cluster last: they only update progress, and a
   * re-list queues every CSR, which must not hold up the pending ones.
   */
  private priorityOf(name: string): number {
    const csr = this.informers.csrs.get(name);
    if (!csr) return 3e13;
    const rank = csr.state !== 'pending' ? 3 : csr.signerName === CLIENT_SIGNER ? 0 : csr.signerName === SERVING_SIGNER ? 1 : 2;
    return rank * 1e13 - csr.createdAt;
  }

  private csrsOf(node: string): Csr[] {
    const csrs: Csr[] = [];
    for (const name of this.requests.csrsOf(node)) {
      const csr = this.informers.csrs.get(name);
      if (csr && this.requests.nodeOf(csr) === node) csrs.push(csr);
    }
    return csrs;
  }
}

