import type { ClusterGateway } from './cluster/gateway.ts';
import { DeadlineError } from './errors.ts';
import { CsrApprover } from './csr/approver.ts';
import { tagged, type Log } from './log.ts';
import type { Informer } from './cluster/informer.ts';
import type { ClusterOperatorInfo } from './cluster/objects.ts';
import { capabilityEnabled, clusterVersionState, operatorsOfDisabledCapabilities } from './completion/cluster-version.ts';
import { watchCompletion, type CompletionWatch } from './completion/watch.ts';
import { InputError } from './settings/settings.ts';
import { operatorSnapshot } from './operators/stability.ts';
import { waitForStableOperators, watchClusterOperators } from './operators/wait.ts';
import { checkPermissions } from './preflight.ts';
import { configureRegistry, precheckRegistry, waitForRegistry, waitForRegistryConfig } from './registry/configure.ts';
import { failureLine, outstandingWork, type Gate } from './report/failure.ts';
import { recordApprover, type RunReport } from './report/report.ts';
import { formatDuration } from './settings/duration.ts';
import type { Settings } from './settings/settings.ts';

export interface RunContext {
  readonly gateway: ClusterGateway;
  readonly log: Log;
  /** A log group, for a step that runs alone (GitHub log groups cannot overlap or nest). */
  readonly group: <T>(title: string, fn: () => Promise<T>) => Promise<T>;
  readonly signal: AbortSignal;
}

export { DeadlineError };

/** How long a failed run waits for approvals already sent before it reports (its deadline has passed). */
const SETTLE_AFTER_FAILURE_MS = 2000;

/**
 * The runbook: preflight, start approving node CSRs (kept running to the end) and watching the
 * ClusterOperators, configure the registry as soon as its Config exists and watch it, wait for
 * the listed nodes, then for the registry and stable operators. Fills `report` as it goes, so the
 * first failure reports everything known at that moment; throws on it.
 */
export async function finishInstall(settings: Settings, report: RunReport, context: RunContext): Promise<void> {
  const { gateway, group } = context;
  // What holds before anything runs, so a failure still reports it (CONTRACT.md).
  report.operatorsStable = !settings.waitForOperators;
  report.nodesReady = settings.nodes.length === 0;
  let ignore = settings.ignoreOperators;
  await group('Preflight: permissions, capabilities and registry plan', async () => {
    await checkPermissions(settings, gateway, context.log);
    if (settings.waitForOperators || settings.registry.storage !== 'keep') {
      const cv = await gateway.readClusterVersion().catch((error: unknown) => {
        if (settings.dryRun) return undefined; // a missing permission is already warned about
        throw error;
      });
      if (cv) report.clusterVersion = clusterVersionState(cv);
      // Since 4.14 the registry is an optional capability: without it there is nothing to configure.
      if (!capabilityEnabled(cv, 'ImageRegistry')) {
        if (settings.registry.storage !== 'keep') {
          throw new InputError('registry-storage', `${settings.registry.storage} needs the image registry, but this cluster was installed without the ImageRegistry capability (ClusterVersion status.capabilities)`, 'keep on such a cluster; or enable the capability first (spec.capabilities.additionalEnabledCapabilities: [ImageRegistry])');
        }
        report.registryInstalled = false;
        context.log.info('the ImageRegistry capability is disabled: this cluster has no image registry (not installed)');
      }
      // The operators of disabled capabilities do not exist; nothing waits for them.
      ignore = [...new Set([...settings.ignoreOperators, ...operatorsOfDisabledCapabilities(cv)])];
    }
    if (settings.registry.storage === 'keep') return;
    const target = await precheckRegistry(gateway, settings.registry);
    if (target) report.registry = { ...target, ready: false, changed: false };
  });
  // The phases overlap (approval runs to the end), so each tags its lines instead of grouping them.
  const phase = <T>(tag: string, title: string, fn: (log: Log) => Promise<T>): Promise<T> => {
    const log = tagged(context.log, tag);
    log.info(title);
    return fn(log);
  };
  const nodesLog = tagged(context.log, 'nodes');
  // Ends what still runs once a gate has failed: the run reports at its deadline, not after.
  const stopped = new AbortController();
  const signal = AbortSignal.any([context.signal, stopped.signal]);

  const approver = settings.nodes.length > 0 ? new CsrApprover(gateway, { expected: settings.nodes, dryRun: settings.dryRun, pollIntervalMs: settings.pollIntervalMs, log: nodesLog }) : undefined;
  let operators: Informer<ClusterOperatorInfo> | undefined;
  let completion: CompletionWatch | undefined;
  /** Copies what the approver and the operator watch know into the report; `final` adds what only a failure needs. */
  const collect = (final = false) => {
    if (operators) recordOperators(report, operators.values(), ignore);
    if (completion) recordCompletion(report, completion);
    if (!approver) return;
    recordApprover(approver, report, final);
    report.timeline = [...approver.timeline, ...report.timeline.filter((t) => t.node === undefined)].sort((a, b) => a.at - b.at);
  };
  signal.addEventListener('abort', () => approver?.stop());
  const progress = setInterval(collect, 1000);
  let failedGate: Gate | undefined;
  /** A gate's failure, unless it only reflects the run being stopped. */
  const gate = <T>(name: Gate, work: Promise<T>): Promise<T | undefined> =>
    work.catch((error: unknown) => {
      if (signal.aborted) return undefined;
      failedGate ??= name;
      throw error;
    });
  let wrappedUp = false;
  const wrapUp = async (failed: boolean) => {
    if (wrappedUp) return;
    wrappedUp = true;
    clearInterval(progress);
    operators?.stop();
    completion?.stop();
    if (approver) {
      const settled = approver.settled().catch(() => undefined);
      await (failed ? within(settled, SETTLE_AFTER_FAILURE_MS) : settled);
      approver.stop();
    }
    collect(true);
  };
  try {
    const registryStart = Date.now();
    const registryDeadline = registryStart + settings.registry.timeoutMs;
    /** When the registry wait gives up: not before the nodes are done (its pods run on them). */
    let registryWaitDeadline = Infinity;
    let registryReady = settings.registry.storage === 'keep';

    const watching = settings.waitForOperators
      ? Promise.all([
          watchClusterOperators(gateway, settings.pollIntervalMs).then((informer) => {
            operators = informer;
            if (wrappedUp) informer.stop();
          }),
          watchCompletion(gateway, { clusterVersion: settings.waitForClusterVersion, pools: settings.machineConfigPools, pollIntervalMs: settings.pollIntervalMs }).then((watch) => {
            completion = watch;
            if (wrappedUp) watch?.stop();
          }),
        ]).then(() => collect())
      : Promise.resolve();

    const nodesPhase = gate('nodes', phase('nodes', `approving the node certificates of ${settings.nodes.map((n) => n.name).join(', ') || 'no listed node'}`, async (log) => {
      if (!approver) return log.info('no nodes listed: no CSR is approved and node readiness is not awaited');
      await approver.start();
      if (settings.dryRun) {
        await approver.settled();
        return;
      }
      const ok = await approver.waitForNodes(Date.now() + settings.nodesTimeoutMs);
      collect(!ok);
      if (!ok) {
        if (signal.aborted) return;
        const lacking = report.nodesMissing.map((m) => `${m.node} (${m.lacks})`);
        throw new DeadlineError(`Nodes not Ready with serving certificates after ${formatDuration(settings.nodesTimeoutMs)}: ${lacking.join(', ')}.`);
      }
      log.info(`all ${settings.nodes.length} listed nodes are Ready with serving certificates`);
    }));
    /** Whether the nodes are done; from then on the registry wait may give up. */
    const nodesDone = nodesPhase.then(
      () => {
        registryWaitDeadline = Math.max(registryDeadline, Date.now() + settings.registry.timeoutMs);
        return true;
      },
      () => false,
    );

    const registryLog = tagged(context.log, 'registry');
    const configuring =
      settings.registry.storage === 'keep'
        ? Promise.resolve(undefined)
        : gate('registry', phase('registry', `configuring image registry storage: ${settings.registry.storage}`, async (log) => {
            const config = await waitForRegistryConfig(gateway, { deadline: registryDeadline, pollIntervalMs: settings.pollIntervalMs, log, signal });
            const outcome = await configureRegistry(gateway, settings.registry, config, { dryRun: settings.dryRun, log });
            report.registry = { ...outcome.target, ready: false, changed: outcome.changed };
            return outcome;
          }));
    // Watched as soon as it is configured; registry-timeout covers the registry's own work,
    // counted once the nodes are done.
    const registryPhase = gate('registry', configuring.then(async (outcome) => {
      if (!outcome || settings.dryRun) return;
      registryLog.info('watching the image registry until it is ready');
      const readiness = await waitForRegistry(gateway, outcome.target, {
        deadline: () => registryWaitDeadline,
        log: registryLog,
        signal,
        onReadiness: (r) => {
          report.registry = { ...report.registry!, ready: r.ready };
          report.registryWaitingFor = r.waitingFor;
        },
        onReady: () => {
          registryReady = true;
          report.timeline.push({ at: Date.now(), event: 'registry ready' });
        },
      });
      if (!readiness.ready && !signal.aborted) {
        throw new DeadlineError(`Image registry not ready after registry-timeout ${formatDuration(settings.registry.timeoutMs)}: waiting for ${readiness.waitingFor}.`);
      }
    }));
    const configured = configuring.then(() => true, () => false);

    const operatorsWait = async (log: Log) => {
      if (!settings.waitForOperators) {
        report.operatorsStable = true;
        return;
      }
      // The wait starts once the nodes are done and the registry is configured.
      const [nodesOk, registryOk] = await Promise.all([nodesDone, configured]);
      await watching;
      if (!nodesOk || !registryOk || signal.aborted || !operators) return;
      const also = [settings.waitForClusterVersion ? ', ClusterVersion complete' : '', settings.machineConfigPools.length ? `, MachineConfigPools ${settings.machineConfigPools.join(', ')} rolled out` : ''].join('');
      log.info(`waiting for every ClusterOperator to be stable for ${formatDuration(settings.stablePeriodMs)}${also}`);
      const result = await waitForStableOperators(operators, {
        ignore,
        stablePeriodMs: settings.stablePeriodMs,
        deadline: Date.now() + settings.operatorsTimeoutMs,
        pollIntervalMs: settings.pollIntervalMs,
        log,
        signal,
        once: settings.dryRun,
        onObservation: () => {
          recordOperators(report, operators!.values(), ignore);
          if (completion) recordCompletion(report, completion);
        },
        alsoRequire: () => (registryReady || settings.dryRun) && (completion?.done() ?? true),
      });
      if (completion) recordCompletion(report, completion);
      report.operatorsStable = result.stable;
      report.unstableOperators = [...result.unstable];
      report.ignoredOperators = [...result.ignored];
      report.unstableOperatorDetails = [...result.unstableDetails];
      if (result.stable) report.timeline.push({ at: Date.now(), event: 'operators stable' });
      if (!result.stable && !signal.aborted && !settings.dryRun) {
        const names = result.unstable.map((o) => `${o.name} (${o.message})`);
        if (names.length === 0 && report.completionLacks.length > 0) {
          throw new DeadlineError(`Install not complete within operators-timeout ${formatDuration(settings.operatorsTimeoutMs)}: ${report.completionLacks.join('; ')}.`);
        }
        throw new DeadlineError(
          `ClusterOperators not stable for ${formatDuration(settings.stablePeriodMs)} within ${formatDuration(settings.operatorsTimeoutMs)}: ${[...names, ...report.completionLacks].join('; ') || 'the image registry is not ready'}.`,
        );
      }
    };
    const operatorsPhase = gate('operators', operatorsWait(tagged(context.log, 'operators')));

    await Promise.all([gate('operators', watching), nodesPhase, registryPhase, operatorsPhase]);
    if (context.signal.aborted) throw new Error('Cancelled: the job was stopped before the install finished.');
  } catch (error) {
    // Approvals already sent get a moment to land in the report; then everything else stops.
    await wrapUp(true);
    stopped.abort();
    if (error instanceof Error) {
      const wanted = { nodes: settings.nodes.length > 0 && !settings.dryRun, registry: settings.registry.storage !== 'keep' && !settings.dryRun, operators: settings.waitForOperators };
      error.message = failureLine(error.message, failedGate, outstandingWork(report, wanted));
    }
    throw error;
  } finally {
    await wrapUp(false);
  }
}

/** The operators as they are now, into the report (the wait's result replaces it when it ends). */
function recordOperators(report: RunReport, operators: readonly ClusterOperatorInfo[], ignore: readonly string[]): void {
  const now = operatorSnapshot(operators, ignore);
  report.unstableOperators = [...now.unstable];
  report.ignoredOperators = [...now.ignored];
  report.unstableOperatorDetails = operators.filter((o) => now.unstable.some((u) => u.name === o.name));
  report.operatorCounts = { stable: Math.max(0, now.watchedCount - now.unstable.length), total: now.watchedCount };
}

function recordCompletion(report: RunReport, completion: CompletionWatch): void {
  report.clusterVersion = completion.clusterVersion() ?? report.clusterVersion;
  report.pools = completion.pools();
  report.completionLacks = completion.lacks();
}

/** `work`, or nothing after `ms`; the timer does not outlive it. */
async function within(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
