import type { NodeStatus, RefusedCsr, TimelineEntry } from '../csr/approver.ts';
import type { ClusterOperatorInfo } from '../cluster/objects.ts';
import type { ClusterVersionState } from '../completion/cluster-version.ts';
import type { PoolState } from '../completion/pools.ts';
import type { OperatorState } from '../operators/stability.ts';
import type { RegistryTarget } from '../registry/plan.ts';

export type Result = 'success' | 'timeout' | 'error';

export interface RegistryReport extends RegistryTarget {
  readonly ready: boolean;
  readonly changed: boolean;
}

/** What the run knows: its findings (assembled from the phases, see finish/progress.ts) and its outcome. */
export interface RunReport {
  result: Result;
  /** One or two lines for a person: what did not happen and the objects involved. */
  failure: string;
  dryRun: boolean;
  startedAt: number;
  finishedAt: number;
  approvedCsrs: string[];
  refusedCsrs: RefusedCsr[];
  nodes: NodeStatus[];
  nodesReady: boolean;
  operatorsStable: boolean;
  unstableOperators: OperatorState[];
  ignoredOperators: OperatorState[];
  unstableOperatorDetails: ClusterOperatorInfo[];
  /** For each listed node not done, what it still lacks. */
  nodesMissing: Array<{ node: string; lacks: string }>;
  /** Where the diagnostics of a failed run were written ('' when none). */
  diagnosticsPath: string;
  /** Watched operators stable at the last observation, and how many are watched (live progress). */
  operatorCounts: { stable: number; total: number };
  registry: RegistryReport | undefined;
  registryWaitingFor: string;
  /** false when the ImageRegistry capability is disabled: the cluster has no registry. */
  registryInstalled: boolean;
  /** ClusterVersion `version` as last read; undefined when not read (output `{}`). */
  clusterVersion: ClusterVersionState | undefined;
  /** The MachineConfigPools named in machine-config-pools, as last seen. */
  pools: PoolState[];
  /** What the completion signals still lacked at the last observation ('' entries left out). */
  completionLacks: string[];
  timeline: Array<TimelineEntry | { at: number; node?: undefined; event: string }>;
}

/** What the phases found out; the rest of a RunReport is the run's outcome, set by the shell's run. */
export type Findings = Omit<RunReport, 'result' | 'failure' | 'dryRun' | 'startedAt' | 'finishedAt' | 'diagnosticsPath'>;

/** The report of a run that found nothing yet (or never started: an input was refused). */
export function newReport(now: number, dryRun: boolean): RunReport {
  return {
    result: 'error',
    failure: '',
    dryRun,
    startedAt: now,
    finishedAt: now,
    approvedCsrs: [],
    refusedCsrs: [],
    nodes: [],
    nodesReady: false,
    operatorsStable: false,
    unstableOperators: [],
    ignoredOperators: [],
    operatorCounts: { stable: 0, total: 0 },
    unstableOperatorDetails: [],
    nodesMissing: [],
    diagnosticsPath: '',
    registry: undefined,
    registryWaitingFor: '',
    registryInstalled: true,
    clusterVersion: undefined,
    pools: [],
    completionLacks: [],
    timeline: [],
  };
}

/** The outputs of CONTRACT.md, as strings. */
export function toOutputs(report: RunReport): Record<string, string> {
  return {
    result: report.result,
    'approved-csrs': JSON.stringify(report.approvedCsrs),
    'refused-csrs': JSON.stringify(report.refusedCsrs),
    nodes: JSON.stringify(report.nodes),
    'nodes-ready': String(report.nodesReady),
    'operators-stable': String(report.operatorsStable),
    'unstable-operators': JSON.stringify(
      report.unstableOperators.map(({ name, available, progressing, degraded, message }) => ({ name, available, progressing, degraded, message })),
    ),
    registry: JSON.stringify(report.registry ?? {}),
    'cluster-version': JSON.stringify(report.clusterVersion ?? {}),
    'machine-config-pools': JSON.stringify(report.pools),
    'diagnostics-path': report.diagnosticsPath,
    'duration-seconds': String(Math.round((report.finishedAt - report.startedAt) / 1000)),
  };
}
