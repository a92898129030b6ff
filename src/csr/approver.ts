import type { ClusterGateway } from '../cluster/gateway.ts';
import type { Informer } from '../cluster/informer.ts';
import type { Csr, NodeInfo } from '../cluster/objects.ts';
import type { Log } from '../log.ts';
import type { ExpectedNode } from '../settings/settings.ts';
import { CLIENT_SIGNER, decide, REASONS, SERVING_SIGNER, type Phase, type ReasonCode, type Verdict } from './policy.ts';
import { parseCertificateRequest, type CertificateRequest } from './x509.ts';

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
}

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
  private readonly approved = new Map<string, { node: string; phase: Phase }>();
  private readonly refused = new Map<string, RefusedCsr>();
  private readonly inFlight = new Set<string>();
  /** Order in which approvals were decided (client first, newest first), for the output. */
  private readonly dispatchOrder = new Map<string, number>();
  private readonly clientApprovals = new Map<string, number>();
  private readonly parsed = new Map<string, CertificateRequest>();
  private readonly readyAtStart = new Set<string>();
  private readonly progress = new Map<string, NodeStatus & { registered: boolean }>();
  private readonly waiters: Array<() => void> = [];
  private readonly queue: Array<{ csr: Csr; verdict: Extract<Verdict, { kind: 'approve' }> }> = [];
  readonly timeline: TimelineEntry[] = [];
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
  }

  /** Replaces the inventory (a watched nodes file changed); newly listed machines are served at once. */
  updateExpected(nodes: readonly ExpectedNode[]): void {
    const next = new Map(nodes.map((n) => [n.name, n]));
    const same = next.size === this.expected.size && [...next].every(([name, n]) => JSON.stringify(this.expected.get(name)) === JSON.stringify(n));
    if (same) return;
    this.expected = next;
    for (const name of this.progress.keys()) if (!next.has(name)) this.progress.delete(name);
    for (const name of next.keys()) {
      if (!this.progress.has(name)) this.progress.set(name, { name, ready: false, clientApproved: false, servingIssued: false, registered: false });
    }
    this.options.log.info(`inventory now lists ${[...next.keys()].join(', ') || 'no machine'}`);
    this.scheduleEvaluation();
  }

  /** Lists CSRs and nodes, approves what is pending, and keeps watching. */
  async start(): Promise<void> {
    await Promise.all([this.csrs.start(), this.nodes.start()]);
    for (const node of this.nodes.values()) {
      if (this.expected.has(node.name) && node.ready) this.readyAtStart.add(node.name);
    }
    this.csrs.onChange(() => this.scheduleEvaluation());
    this.nodes.onChange(() => this.scheduleEvaluation());
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

  refusedCsrs(): RefusedCsr[] {
    return [...this.refused.values()].filter((r) => !this.approved.has(r.name));
  }

  nodeStatuses(): NodeStatus[] {
    return [...this.progress.values()].map(({ name, ready, clientApproved, servingIssued }) => ({ name, ready, clientApproved, servingIssued }));
  }

  allDone(): boolean {
    return [...this.progress.values()].every((p) => p.ready && (p.servingIssued || this.readyAtStart.has(p.name)));
  }

  /** For each unfinished node, what it still lacks, in words. */
  missing(): Array<{ node: string; lacks: string }> {
    const result: Array<{ node: string; lacks: string }> = [];
    for (const p of this.progress.values()) {
      if (p.ready && (p.servingIssued || this.readyAtStart.has(p.name))) continue;
      result.push({ node: p.name, lacks: this.describeLack(p) });
    }
    return result;
  }

  private describeLack(p: NodeStatus & { registered: boolean }): string {
    const mine = (signer: string) =>
      this.csrs.values().filter((c) => c.signerName === signer && this.nodeOf(c) === p.name);
    const refusal = (signer: string) => [...this.refused.values()].find((r) => r.node === p.name && r.signer === signer && !this.approved.has(r.name));
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

  private nodeOf(csr: Csr): string | undefined {
    if (csr.signerName === SERVING_SIGNER) return csr.username.replace(/^system:node:/, '');
    const cn = this.parse(csr)?.commonNames[0];
    return cn?.startsWith('system:node:') ? cn.slice('system:node:'.length) : undefined;
  }

  private parse(csr: Csr): CertificateRequest | undefined {
    let parsed = this.parsed.get(csr.uid || csr.name);
    if (!parsed) {
      try {
        parsed = parseCertificateRequest(csr.request);
      } catch {
        return undefined;
      }
      this.parsed.set(csr.uid || csr.name, parsed);
    }
    return parsed;
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
    const nodes = new Map(this.nodes.values().map((n) => [n.name, n]));
    this.updateProgress(nodes);
    const context = {
      expected: this.expected,
      nodes,
      clientApprovals: (node: string) => this.clientApprovals.get(node) ?? 0,
      parse: (csr: Csr) => {
        const parsed = this.parse(csr);
        if (!parsed) return parseCertificateRequest(csr.request);
        return parsed;
      },
    };
    const pending = this.csrs
      .values()
      .filter((c) => c.state === 'pending' && !this.inFlight.has(c.name) && !this.approved.has(c.name))
      .sort((a, b) => phaseRank(a) - phaseRank(b) || b.createdAt - a.createdAt || a.name.localeCompare(b.name));
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
    if (previous?.reason === verdict.reason) return;
    this.refused.set(csr.name, { name: csr.name, signer: csr.signerName, requestor: csr.username, node: verdict.node, reason: verdict.reason });
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
        this.pump();
        this.wake();
      });
    }
  }

  private async approve(csr: Csr, verdict: Extract<Verdict, { kind: 'approve' }>): Promise<void> {
    const what = `${verdict.phase} CSR ${csr.name} for ${verdict.node}`;
    if (this.options.dryRun) {
      this.approved.set(csr.name, { node: verdict.node, phase: verdict.phase });
      this.options.log.info(`would approve ${what} (dry-run)`);
      return;
    }
    try {
      const outcome = await this.gateway.approveCsr(
        csr,
        `Approved by openshift-finish-install: ${verdict.phase} identity of listed machine ${verdict.node} verified`,
      );
      if (outcome === 'approved') {
        this.approved.set(csr.name, { node: verdict.node, phase: verdict.phase });
        this.timeline.push({ at: Date.now(), node: verdict.node, event: verdict.phase === 'client' ? 'client approved' : 'serving approved' });
        this.options.log.info(`approved ${what}`);
      } else {
        this.options.log.info(`${what}: ${outcome === 'gone' ? 'deleted before approval' : `${outcome} by someone else`}`);
      }
    } catch (error) {
      if (verdict.phase === 'client') this.clientApprovals.set(verdict.node, (this.clientApprovals.get(verdict.node) ?? 1) - 1);
      if (this.stopped) return;
      const status = (error as { status?: number }).status;
      if (status === 401 || status === 403) {
        this.failure = new Error(`${(error as Error).message}. Grant the role in deploy/rbac.yaml to the action's identity.`);
      }
      this.options.log.warning(`could not approve ${what}: ${(error as Error).message}`);
    }
  }

  private updateProgress(nodes: Map<string, NodeInfo>): void {
    const servingIssued = new Set<string>();
    const clientApproved = new Set<string>();
    for (const csr of this.csrs.values()) {
      if (csr.state !== 'approved') continue;
      const node = this.nodeOf(csr);
      if (!node || !this.expected.has(node)) continue;
      if (csr.signerName === SERVING_SIGNER && csr.issued) servingIssued.add(node);
      if (csr.signerName === CLIENT_SIGNER) clientApproved.add(node);
    }
    for (const [name, before] of this.progress) {
      const node = nodes.get(name);
      const after = {
        name,
        registered: node !== undefined,
        ready: node?.ready ?? false,
        clientApproved: before.clientApproved || clientApproved.has(name) || node !== undefined,
        servingIssued: before.servingIssued || servingIssued.has(name),
      };
      const at = Date.now();
      if (after.registered && !before.registered) this.transition(name, 'registered', at, 'registered its Node');
      if (after.servingIssued && !before.servingIssued) this.transition(name, 'serving issued', at, 'has its serving certificate');
      if (after.ready && !before.ready) this.transition(name, 'ready', at, 'is Ready');
      if (!after.ready && before.ready) this.options.log.info(`node ${name} is no longer Ready`);
      this.progress.set(name, after);
    }
  }

  private transition(node: string, event: TimelineEntry['event'], at: number, words: string): void {
    this.timeline.push({ at, node, event });
    this.options.log.info(`node ${node} ${words}`);
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }
}

const phaseRank = (csr: Csr): number => (csr.signerName === CLIENT_SIGNER ? 0 : 1);
