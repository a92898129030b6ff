// The runbook: the phases in order, nothing else. They overlap: approval runs to the end, the
// registry is configured as soon as its Config exists, the operator wait starts once the nodes are
// done and the registry is configured.
import { CsrApprover } from '../approver/approver.ts';
import { AccessRefused } from '../cluster/gateway.ts';
import { tagged, type Log } from '../log.ts';
import { outstandingWork, type Gate, type Outstanding } from '../report/failure.ts';
import type { Settings } from '../settings/settings.ts';
import type { RunContext } from './context.ts';
import { approveNodes } from './nodes.ts';
import { awaitStableOperators, OperatorWatches } from './operators.ts';
import { runPreflight } from './preflight.ts';
import { startRegistry } from './registry.ts';

/** How long a failed run waits for approvals already sent before it reports (its deadline has passed). */
const SETTLE_AFTER_FAILURE_MS = 2000;

/**
 * Preflight; then approve the listed nodes' CSRs (kept running to the end) while the operators are
 * watched and the registry configured; then wait for the nodes, the registry and stable operators.
 * Everything learnt goes to `context.progress`, so the first failure reports all known at that
 * moment; throws on it, with what else is not done appended (report/failure.ts).
 */
export async function finishInstall(settings: Settings, context: RunContext): Promise<void> {
  const { progress } = context;
  progress.emit({ kind: 'awaiting', nodes: settings.nodes.length > 0, operators: settings.waitForOperators });
  const { ignore, networks } = await context.group('Preflight: permissions, capabilities, networks and registry plan', () => runPreflight(settings, context));

  // Ends what still runs once a gate has failed: the run reports at its deadline, not after.
  const stopped = new AbortController();
  const signal = AbortSignal.any([context.signal, stopped.signal]);
  // The phases overlap, so each tags its lines instead of grouping them.
  const phase = (tag: string): RunContext & { log: Log } => ({ ...context, log: tagged(context.log, tag), signal });
  const nodes = phase('nodes');
  // The approver and the MachineConfigPool check both read the Nodes: one informer for both.
  const nodeInformer = settings.nodes.length > 0 && settings.waitForOperators && settings.machineConfigPools.length > 0 ? context.gateway.nodeInformer(settings.pollIntervalMs) : undefined;
  const approver = settings.nodes.length > 0 ? new CsrApprover(context.gateway, { expected: settings.nodes, dryRun: settings.dryRun, pollIntervalMs: settings.pollIntervalMs, log: nodes.log, networks, maxExpirationSeconds: settings.maxRequestedSeconds, ...(nodeInformer ? { nodes: nodeInformer } : {}) }) : undefined;
  if (approver) progress.attach({ approver });
  signal.addEventListener('abort', () => approver?.stop());
  signal.addEventListener('abort', () => nodeInformer?.stop());
  const watches = settings.waitForOperators ? new OperatorWatches(settings, ignore, context, nodeInformer) : undefined;

  let failedGate: Gate | undefined;
  /** A gate's failure, unless it only reflects the run being stopped. */
  const gate = <T>(name: Gate, work: Promise<T>): Promise<T | undefined> =>
    work.catch((error: unknown) => {
      if (signal.aborted) return undefined;
      failedGate ??= name;
      throw error;
    });
  try {
    const watching = gate('operators', watches?.started ?? Promise.resolve());
    const nodesPhase = gate('nodes', approveNodes(settings, approver, nodes));
    /** Whether the nodes are done; from then on the registry wait may give up. */
    const nodesDone = nodesPhase.then(() => true, () => false);
    const registry = startRegistry(settings, nodesDone, phase('registry'));
    const configured = gate('registry', registry.configured).then(() => true, () => false);
    const registryPhase = gate('registry', registry.done);
    const operatorsPhase = gate('operators', (async () => {
      if (!watches) return;
      const [nodesOk, registryOk] = await Promise.all([nodesDone, configured]);
      await watches.started;
      if (!nodesOk || !registryOk || signal.aborted) return;
      const registryReady = () => settings.registry.storage === 'keep' || progress.reached('registry ready');
      await awaitStableOperators(settings, watches, ignore, registryReady, phase('operators'));
    })());
    // A watched kind the identity may no longer list or watch ends the run with an error at once,
    // rather than as the timeout of the gate that waits on it.
    const refused = context.gateway.informerRefused(signal).catch((error: unknown) => {
      failedGate ??= gateOfRefusal(error, settings);
      throw error;
    });
    await Promise.race([Promise.all([watching, nodesPhase, registryPhase, operatorsPhase]), refused]);
    if (context.signal.aborted) throw new Error('Cancelled: the job was stopped before the install finished.');
    await wrapUp(approver, watches, false);
    nodeInformer?.stop();
  } catch (error) {
    // Approvals already sent get a moment to land in the report; then everything else stops.
    await wrapUp(approver, watches, true);
    nodeInformer?.stop();
    stopped.abort();
    const wanted = { nodes: settings.nodes.length > 0 && !settings.dryRun, registry: settings.registry.storage !== 'keep' && !settings.dryRun, operators: settings.waitForOperators };
    throw new RunbookFailure(error, failedGate, outstandingWork(progress.findings(true), wanted));
  }
}

/**
 * A run that failed once it had started: the first failure, the gate it came from (none: the run
 * was cancelled), and what else was not done then. The shell words the failure line from it.
 */
export class RunbookFailure extends Error {
  readonly first: unknown;
  readonly gate: Gate | undefined;
  readonly outstanding: readonly Outstanding[];
  constructor(first: unknown, gate: Gate | undefined, outstanding: readonly Outstanding[]) {
    super(first instanceof Error ? first.message : String(first));
    this.name = 'RunbookFailure';
    this.first = first;
    this.gate = gate;
    this.outstanding = outstanding;
  }
}

/** The gate waiting on a refused informer's kind: the CSRs and (when nodes are listed) the Nodes are the nodes'; the rest the operators'. */
function gateOfRefusal(error: unknown, settings: Settings): Gate {
  const resource = error instanceof AccessRefused ? error.resource : '';
  if (resource.startsWith('certificatesigningrequests.')) return 'nodes';
  return resource === 'nodes' && settings.nodes.length > 0 ? 'nodes' : 'operators';
}

/** Stops the watches and, once what it sent has landed (at most 2 s after a failure), the approver. */
async function wrapUp(approver: CsrApprover | undefined, watches: OperatorWatches | undefined, failed: boolean): Promise<void> {
  watches?.stop();
  if (!approver) return;
  const settled = approver.settled().catch(() => undefined);
  await (failed ? within(settled, SETTLE_AFTER_FAILURE_MS) : settled);
  approver.stop();
}

/** `work`, or nothing after `ms`; the timer does not outlive it. */
async function within(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
