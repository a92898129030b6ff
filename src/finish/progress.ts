// What a run knows, at any moment: the observations its phases emit, plus what the live watches
// (the approver, the ClusterOperators, the completion signals) hold. The report is assembled from
// these when asked (the CLI's progress line, the end of the run, a failure), never kept in step.
import type { NodeStatus, RefusedCsr, TimelineEntry } from '../approver/approver.ts';
import type { ClusterOperatorInfo } from '../cluster/objects.ts';
import type { ClusterVersionState } from '../completion/cluster-version.ts';
import type { PoolState } from '../completion/pools.ts';
import { operatorSnapshot } from '../operators/stability.ts';
import type { RegistryReadiness, RegistryTarget } from '../registry/plan.ts';
import type { Findings } from '../report/report.ts';

/** The run-wide moments of the timeline (the approver keeps the per-node ones). */
export type Milestone = 'registry ready' | 'operators stable';

export type RunEvent =
  /** Which gates the run waits for: one not awaited holds from the start. */
  | { readonly kind: 'awaiting'; readonly nodes: boolean; readonly operators: boolean }
  /** The machines listed without addresses, and what bounds their IP addresses (identity/networks.ts). */
  | { readonly kind: 'undeclared'; readonly names: readonly string[]; readonly bounds: string }
  | { readonly kind: 'cluster-version'; readonly state: ClusterVersionState }
  /** The ImageRegistry capability is disabled: the cluster has no registry. */
  | { readonly kind: 'no-registry' }
  /** Planned (preflight) or applied (configured) registry storage. */
  | { readonly kind: 'registry-target'; readonly target: RegistryTarget; readonly changed: boolean }
  | { readonly kind: 'registry-readiness'; readonly readiness: RegistryReadiness }
  /** The operator wait's verdict. */
  | { readonly kind: 'operators-awaited'; readonly stable: boolean }
  | { readonly kind: 'milestone'; readonly at: number; readonly event: Milestone };

/** What the report reads of the approver. */
export interface ApproverView {
  approvedCsrs(): string[];
  requestedDurations(): Array<{ name: string; expirationSeconds: number }>;
  refusedCsrs(): RefusedCsr[];
  nodeStatuses(): NodeStatus[];
  allDone(): boolean;
  missing(): Array<{ node: string; lacks: string }>;
  readonly timeline: readonly TimelineEntry[];
}

export interface CompletionView {
  clusterVersion(): ClusterVersionState | undefined;
  pools(): PoolState[];
  lacks(): string[];
}

export interface LiveSources {
  readonly approver?: ApproverView;
  /** The ClusterOperators as watched, and the names not waited for. */
  readonly operators?: { readonly values: () => readonly ClusterOperatorInfo[]; readonly ignore: readonly string[] };
  readonly completion?: CompletionView;
}

/**
 * The findings, from the events in the order emitted and the sources as they are now. `final`
 * adds what costs a pass over every CSR or a sort (what each node lacks, the timeline). Pure
 * given the sources.
 */
export function findingsOf(events: readonly RunEvent[], sources: LiveSources, final: boolean): Findings {
  const awaiting = events.find((e) => e.kind === 'awaiting');
  const undeclared = events.find((e) => e.kind === 'undeclared');
  let registry: Findings['registry'];
  let registryWaitingFor = '';
  let registryInstalled = true;
  let clusterVersion: ClusterVersionState | undefined;
  let operatorsStable = awaiting ? !awaiting.operators : false;
  const milestones: Array<{ at: number; event: Milestone }> = [];
  for (const event of events) {
    if (event.kind === 'cluster-version') clusterVersion = event.state;
    else if (event.kind === 'no-registry') registryInstalled = false;
    else if (event.kind === 'registry-target') registry = { ...event.target, ready: false, changed: event.changed };
    else if (event.kind === 'registry-readiness') {
      if (registry) registry = { ...registry, ready: event.readiness.ready };
      registryWaitingFor = event.readiness.waitingFor;
    } else if (event.kind === 'operators-awaited') operatorsStable = event.stable;
    else if (event.kind === 'milestone') milestones.push({ at: event.at, event: event.event });
  }
  const { approver, operators, completion } = sources;
  const snapshot = operators ? operatorSnapshot(operators.values(), operators.ignore) : undefined;
  const unstable = snapshot?.unstable ?? [];
  return {
    approvedCsrs: approver?.approvedCsrs() ?? [],
    requestedDurations: approver?.requestedDurations() ?? [],
    undeclared: undeclared ? { names: [...undeclared.names], bounds: undeclared.bounds } : undefined,
    refusedCsrs: approver?.refusedCsrs() ?? [],
    nodes: approver?.nodeStatuses() ?? [],
    nodesReady: approver ? approver.allDone() : awaiting ? !awaiting.nodes : false,
    nodesMissing: approver && final ? approver.missing() : [],
    operatorsStable,
    operatorsAwaited: awaiting?.operators,
    unstableOperators: [...unstable],
    ignoredOperators: [...(snapshot?.ignored ?? [])],
    unstableOperatorDetails: operators ? operators.values().filter((o) => unstable.some((u) => u.name === o.name)) : [],
    operatorCounts: snapshot ? { stable: Math.max(0, snapshot.watchedCount - unstable.length), total: snapshot.watchedCount } : { stable: 0, total: 0 },
    registry,
    registryWaitingFor,
    registryInstalled,
    clusterVersion: completion?.clusterVersion() ?? clusterVersion,
    pools: completion?.pools() ?? [],
    completionLacks: completion?.lacks() ?? [],
    timeline: final ? [...(approver?.timeline ?? []), ...milestones].sort((a, b) => a.at - b.at) : [],
  };
}

/** The run's event stream and its live sources; the shells read the findings from it. */
export class RunProgress {
  private readonly events: RunEvent[] = [];
  private sources: LiveSources = {};

  emit(event: RunEvent): void {
    this.events.push(event);
  }

  /** A watch whose state the report shows from now on. */
  attach(source: LiveSources): void {
    this.sources = { ...this.sources, ...source };
  }

  /** Whether a milestone has been reached (a later phase may depend on it). */
  reached(milestone: Milestone): boolean {
    return this.events.some((e) => e.kind === 'milestone' && e.event === milestone);
  }

  findings(final: boolean): Findings {
    return findingsOf(this.events, this.sources, final);
  }
}
