import type { Csr, NodeInfo } from '../cluster/objects.ts';
import type { Phase } from '../identity/policy.ts';
import type { Log } from '../log.ts';
import { initialProgress, isDone, progressOf, stepsBetween, type Progress } from './progress.ts';
import { Timeline, type TimelineEntry } from './timeline.ts';

export interface NodeStatus {
  readonly name: string;
  readonly ready: boolean;
  readonly clientApproved: boolean;
  readonly servingIssued: boolean;
  /** Client certificates issued for this node name on requests this run approved. */
  readonly clientCertificates: number;
}

/** What the tracker reads about a node from the approver's caches. */
export interface NodeFacts {
  node(name: string): NodeInfo | undefined;
  csrs(name: string): Csr[];
  clientCertificates(name: string): number;
}

const STEP_WORDS = { registered: 'registered its Node', 'serving issued': 'has its serving certificate', ready: 'is Ready', 'not ready': 'is no longer Ready' } as const;

/**
 * The listed nodes' progress, derived again (progress.ts) whenever a node's Node or CSRs change;
 * the last derivation is kept only to tell what changed, which is logged once and put on the
 * timeline.
 */
export class NodeTracker {
  private readonly progress = new Map<string, Progress>();
  private readonly history: Timeline;
  private readonly facts: NodeFacts;
  private readonly log: Log;
  /** Called when a node's progress changed (waits for the nodes look again). */
  private readonly changed: () => void;
  /** `phase:node` of the approvals sent and not yet answered: what they lead to waits for the answer. */
  private readonly unanswered = new Map<string, number>();

  constructor(options: { facts: NodeFacts; log: Log; latestOnly: boolean; changed: () => void }) {
    this.facts = options.facts;
    this.log = options.log;
    this.history = new Timeline(options.latestOnly);
    this.changed = options.changed;
  }

  /** The listed machines are now `names`; returns those no longer listed (their timeline goes with them). */
  list(names: Iterable<string>): string[] {
    const listed = new Set(names);
    const dropped = [...this.progress.keys()].filter((name) => !listed.has(name));
    for (const name of dropped) {
      this.progress.delete(name);
      this.history.forgetNode(name);
    }
    for (const name of listed) if (!this.progress.has(name)) this.progress.set(name, initialProgress(name));
    return dropped;
  }

  /** Listed nodes already Ready when the run starts: they joined earlier and need no new serving certificate. */
  readyAtStart(nodes: Iterable<NodeInfo>): void {
    for (const node of nodes) if (this.progress.has(node.name) && node.ready) this.progress.set(node.name, initialProgress(node.name, true));
  }

  /** Derives the progress of these nodes again (every listed node when none are given). */
  refresh(names: Iterable<string> = [...this.progress.keys()]): void {
    let changed = false;
    for (const name of names) {
      const before = this.progress.get(name);
      if (!before) continue;
      const after = progressOf(before, this.facts.node(name), this.facts.csrs(name));
      if (sameProgress(before, after) || this.aheadOfAnswer(name, before, after)) continue;
      this.progress.set(name, after);
      changed = true;
      const steps = stepsBetween(before, after);
      const at = Date.now();
      for (const step of steps) {
        if (step !== 'not ready') this.history.record({ at, node: name, event: step });
        this.log.info(`node ${name} ${STEP_WORDS[step]}`);
      }
    }
    if (changed) this.changed();
  }

  recordApproval(node: string, phase: Phase): void {
    this.history.record({ at: Date.now(), node, event: phase === 'client' ? 'client approved' : 'serving approved' });
  }

  /**
   * An approval for `node` is on its way. The signer often issues the certificate, and the
   * informer shows it, before the server's answer to the approval arrives: the node's progress
   * waits for the answer (`answered`), so the log and the timeline read in the order things
   * happened (approved, then issued).
   */
  approving(node: string, phase: Phase): void {
    const key = `${phase}:${node}`;
    this.unanswered.set(key, (this.unanswered.get(key) ?? 0) + 1);
  }

  /** The approval's answer came (whatever it was, and after it was recorded): the node's progress catches up. */
  answered(node: string, phase: Phase): void {
    const key = `${phase}:${node}`;
    const left = (this.unanswered.get(key) ?? 0) - 1;
    if (left > 0) return void this.unanswered.set(key, left);
    if (this.unanswered.delete(key)) this.refresh([node]);
  }

  private aheadOfAnswer(name: string, before: Progress, after: Progress): boolean {
    return (this.unanswered.has(`serving:${name}`) && after.servingIssued && !before.servingIssued) || (this.unanswered.has(`client:${name}`) && after.clientApproved && !before.clientApproved);
  }

  allDone(): boolean {
    for (const p of this.progress.values()) if (!isDone(p)) return false;
    return true;
  }

  unfinished(): Progress[] {
    return [...this.progress.values()].filter((p) => !isDone(p));
  }

  statuses(): NodeStatus[] {
    return [...this.progress.values()].map(({ name, ready, clientApproved, servingIssued }) => ({
      name,
      ready,
      clientApproved,
      servingIssued,
      clientCertificates: this.facts.clientCertificates(name),
    }));
  }

  readyAtStartNames(): string[] {
    return [...this.progress.values()].filter((p) => p.readyAtStart).map((p) => p.name);
  }

  get timeline(): readonly TimelineEntry[] {
    return this.history.all;
  }
}

const sameProgress = (a: Progress, b: Progress): boolean =>
  a.registered === b.registered && a.ready === b.ready && a.clientApproved === b.clientApproved && a.servingIssued === b.servingIssued && a.readyAtStart === b.readyAtStart;
