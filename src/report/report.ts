import { bounded, outputJson } from '../escape.ts';
import type { NodeStatus, RefusedCsr, TimelineEntry } from '../approver/approver.ts';
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
  /** This run's approvals that asked for a certificate lifetime (spec.expirationSeconds). */
  requestedDurations: Array<{ name: string; expirationSeconds: number }>;
  refusedCsrs: RefusedCsr[];
  /** The machines listed without addresses and what bounds their IPs; undefined when every one has declared addresses. */
  undeclared: { names: string[]; bounds: string } | undefined;
  nodes: NodeStatus[];
  nodesReady: boolean;
  operatorsStable: boolean;
  /** Whether the run waits for the operators: undefined when it stopped before deciding (a bad input). */
  operatorsAwaited: boolean | undefined;
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
    requestedDurations: [],
    refusedCsrs: [],
    undeclared: undefined,
    nodes: [],
    nodesReady: false,
    operatorsStable: false,
    operatorsAwaited: undefined,
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

/** At most SHOWN_NAMES names, then how many more (the outputs and diagnostics have them all). */
export function shownNames(names: readonly string[], escape: (text: string) => string): string {
  const shown = names.slice(0, SHOWN_NAMES).map((n) => escape(n)).join(', ');
  return names.length > SHOWN_NAMES ? `${shown} and ${names.length - SHOWN_NAMES} more` : shown;
}
const SHOWN_NAMES = 100;

/** The machines listed without addresses, and what their serving certificates may still carry. */
export function undeclaredLine(undeclared: { names: readonly string[]; bounds: string }, escape: (text: string) => string): string {
  return `Listed without addresses (undeclared): ${shownNames(undeclared.names, escape)}. Their serving certificates may carry the InternalIP/ExternalIP addresses their Nodes report, ${escape(undeclared.bounds)}.`;
}

/** The approved requests that asked for a certificate lifetime (spec.expirationSeconds), with what they asked. */
export function durationsAsked(asked: ReadonlyArray<{ name: string; expirationSeconds: number }>, escape: (text: string) => string): string {
  const shown = asked.slice(0, SHOWN_NAMES).map((a) => `${escape(a.name)} ${a.expirationSeconds}s`);
  const more = asked.length > SHOWN_NAMES ? ` and ${asked.length - SHOWN_NAMES} more` : '';
  return `Requested durations (spec.expirationSeconds; the signer caps each at its own maximum): ${shown.join(', ')}${more}.`;
}

/** What the run can say about the operators: only what it checked. */
export function operatorsVerdict(report: RunReport): string {
  if (report.operatorsAwaited === false) return 'not awaited (wait-for-operators: false)';
  if (report.operatorsStable) return 'all ClusterOperators stable';
  const { stable, total } = report.operatorCounts;
  if (total === 0) return report.operatorsAwaited === undefined ? 'not checked: the run stopped before it looked at them' : 'not all ClusterOperators stable';
  if (report.unstableOperators.length === 0) return `not awaited to the end: all ${total} watched ClusterOperators were stable when the run stopped`;
  return `not all ClusterOperators stable: ${stable} of ${total} stable when the run stopped`;
}

/**
 * The list outputs whose entries the cluster's users create (anyone allowed to create a CSR can
 * add a refused one) hold at most this many entries and bytes, so a step can still pass them
 * through `env:` (Linux refuses a variable over 128 KiB) and the job's outputs stay under
 * GitHub's 1 MB. The rest are counted in `refused-csrs-omitted` and kept whole in the
 * diagnostics folder.
 */
export const LIST_OUTPUT_LIMITS = { entries: 100, bytes: 32 * 1024 } as const;

/**
 * `approved-csrs` names requests of listed machines only, but a listed machine chooses its
 * requests' names: bounded by bytes (about 5,000 generated `csr-xxxxx` names fit), the rest
 * counted in `approved-csrs-omitted` and kept whole in the diagnostics folder.
 */
export const APPROVED_OUTPUT_LIMITS = { entries: Number.POSITIVE_INFINITY, bytes: 64 * 1024 } as const;

/** The first entries of `items` that fit the limits, as output JSON, and how many were left out. */
export function boundedList(items: readonly unknown[], limits: { entries: number; bytes: number } = LIST_OUTPUT_LIMITS): { json: string; omitted: number } {
  const kept: string[] = [];
  let bytes = 2;
  for (const item of items.slice(0, Math.min(items.length, limits.entries))) {
    const json = outputJson(item);
    if (bytes + json.length + 1 > limits.bytes) break;
    kept.push(json);
    bytes += json.length + 1;
  }
  return { json: `[${kept.join(',')}]`, omitted: items.length - kept.length };
}

/** True when some list output could not hold all its entries (the diagnostics then keep them). */
export function listsCut(report: RunReport): boolean {
  return refusedOutput(report).omitted > 0 || approvedOutput(report).omitted > 0;
}

function approvedOutput(report: RunReport): { json: string; omitted: number } {
  return boundedList(report.approvedCsrs.map((name) => bounded(name)), APPROVED_OUTPUT_LIMITS);
}

function refusedOutput(report: RunReport): { json: string; omitted: number } {
  return boundedList(
    report.refusedCsrs.map((r) => ({ name: bounded(r.name), signer: bounded(r.signer), requestor: bounded(r.requestor), node: bounded(r.node), reason: r.reason, ...(r.expirationSeconds === undefined ? {} : { expirationSeconds: r.expirationSeconds }) })),
  );
}

/** The outputs of CONTRACT.md, as strings. Cluster text is cut to MAX_FIELD_CHARS per field. */
export function toOutputs(report: RunReport): Record<string, string> {
  const refused = refusedOutput(report);
  const approved = approvedOutput(report);
  const cv = report.clusterVersion;
  return {
    result: report.result,
    'approved-csrs': approved.json,
    'approved-csrs-omitted': String(approved.omitted),
    'refused-csrs': refused.json,
    'refused-csrs-omitted': String(refused.omitted),
    nodes: outputJson(report.nodes),
    'nodes-ready': String(report.nodesReady),
    'operators-stable': String(report.operatorsStable),
    'unstable-operators': outputJson(
      report.unstableOperators.map(({ name, available, progressing, degraded, message }) => ({ name: bounded(name), available, progressing, degraded, message: bounded(message) })),
    ),
    registry: outputJson(report.registry ?? {}),
    'cluster-version': outputJson(cv ? { ...cv, version: bounded(cv.version), message: bounded(cv.message) } : {}),
    'machine-config-pools': outputJson(report.pools),
    'diagnostics-path': report.diagnosticsPath,
    'duration-seconds': String(Math.round((report.finishedAt - report.startedAt) / 1000)),
  };
}
