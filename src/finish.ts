import type { ClusterGateway } from './cluster/gateway.ts';
import { DeadlineError } from './errors.ts';
import { CsrApprover } from './csr/approver.ts';
import type { Log } from './log.ts';
import { waitForStableOperators } from './operators/wait.ts';
import { describeRule, requiredPermissions } from './preflight.ts';
import { configureRegistry, precheckRegistry, waitForRegistry, waitForRegistryConfig } from './registry/configure.ts';
import type { RunReport } from './report/report.ts';
import { formatDuration } from './settings/duration.ts';
import type { Settings } from './settings/settings.ts';

export interface RunContext {
  readonly gateway: ClusterGateway;
  readonly log: Log;
  /** A log group, for a step that runs alone (GitHub log groups cannot overlap or nest). */
  readonly group: <T>(title: string, fn: () => Promise<T>) => Promise<T>;
  readonly signal: AbortSignal;
}

export class PermissionError extends Error {}
export { DeadlineError };

/**
 * The runbook: preflight, start approving node CSRs (kept running to the end), configure the
 * registry as soon as its Config exists, wait for the listed nodes, then for the registry and
 * stable operators. Fills `report` as it goes; throws on the first failure.
 */
export async function finishInstall(settings: Settings, report: RunReport, context: RunContext): Promise<void> {
  const { gateway, group, signal } = context;
  // What holds before anything runs, so a failure still reports it (CONTRACT.md).
  report.operatorsStable = !settings.waitForOperators;
  report.nodesReady = settings.nodes.length === 0;
  await group('Preflight: permissions and registry plan', async () => {
    await preflight(settings, context);
    if (settings.registry.storage !== 'keep') await precheckRegistry(gateway, settings.registry);
  });
  // The phases overlap (approval runs to the end), so each tags its lines instead of grouping them.
  const phase = <T>(tag: string, title: string, fn: (log: Log) => Promise<T>): Promise<T> => {
    const log = tagged(context.log, tag);
    log.info(title);
    return fn(log);
  };
  const nodesLog = tagged(context.log, 'nodes');

  const approver = settings.nodes.length > 0 ? new CsrApprover(gateway, { expected: settings.nodes, dryRun: settings.dryRun, pollIntervalMs: settings.pollIntervalMs, log: nodesLog }) : undefined;
  /** Copies the approver's state into the report; `final` adds what only a failure needs. */
  const collect = (final = false) => {
    if (!approver) return;
    snapshot(approver, report, final);
    report.timeline = [...approver.timeline, ...report.timeline.filter((t) => t.node === undefined)].sort((a, b) => a.at - b.at);
  };
  signal.addEventListener('abort', () => approver?.stop());
  const progress = setInterval(collect, 1000);
  try {
    const registryStart = Date.now();
    const registryDeadline = registryStart + settings.registry.timeoutMs;
    let registryReady = settings.registry.storage === 'keep';

    const nodesPhase = phase('nodes', `approving the node certificates of ${settings.nodes.map((n) => n.name).join(', ') || 'no listed node'}`, async (log) => {
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
    });

    const registryPhase =
      settings.registry.storage === 'keep'
        ? Promise.resolve(undefined)
        : phase('registry', `configuring image registry storage: ${settings.registry.storage}`, async (log) => {
            const config = await waitForRegistryConfig(gateway, { deadline: registryDeadline, pollIntervalMs: settings.pollIntervalMs, log, signal });
            const outcome = await configureRegistry(gateway, settings.registry, config, { dryRun: settings.dryRun, log });
            report.registry = { ...outcome.target, ready: false, changed: outcome.changed };
            return outcome;
          });

    const [, outcome] = await Promise.all([nodesPhase, registryPhase]);
    collect();

    const registryWait = async (log: Log) => {
      if (!outcome || !report.registry) return;
      if (settings.dryRun) return;
      // registry-timeout covers the registry's own work: counted from when the wait starts.
      const readiness = await waitForRegistry(gateway, outcome.target, {
        deadline: Math.max(registryDeadline, Date.now() + settings.registry.timeoutMs),
        log,
        signal,
        onReady: () => {
          registryReady = true;
          report.timeline.push({ at: Date.now(), event: 'registry ready' });
        },
      });
      report.registry = { ...report.registry, ready: readiness.ready };
      report.registryWaitingFor = readiness.waitingFor;
      if (!readiness.ready && !signal.aborted) {
        throw new DeadlineError(`Image registry not ready after registry-timeout ${formatDuration(settings.registry.timeoutMs)}: waiting for ${readiness.waitingFor}.`);
      }
    };

    const operatorsWait = async (log: Log) => {
      if (!settings.waitForOperators) {
        report.operatorsStable = true;
        return;
      }
      const result = await waitForStableOperators(gateway, {
        ignore: settings.ignoreOperators,
        stablePeriodMs: settings.stablePeriodMs,
        deadline: Date.now() + settings.operatorsTimeoutMs,
        pollIntervalMs: settings.pollIntervalMs,
        log,
        signal,
        once: settings.dryRun,
        onObservation: (o) => {
          report.unstableOperators = [...o.unstable];
          report.operatorCounts = { stable: Math.max(0, o.watchedCount - o.unstable.length), total: o.watchedCount };
        },
        alsoRequire: () => registryReady || settings.dryRun,
      });
      report.operatorsStable = result.stable;
      report.unstableOperators = [...result.unstable];
      report.ignoredOperators = [...result.ignored];
      report.unstableOperatorDetails = [...result.unstableDetails];
      if (result.stable) report.timeline.push({ at: Date.now(), event: 'operators stable' });
      if (!result.stable && !signal.aborted && !settings.dryRun) {
        const names = result.unstable.map((o) => `${o.name} (${o.message})`);
        throw new DeadlineError(
          `ClusterOperators not stable for ${formatDuration(settings.stablePeriodMs)} within ${formatDuration(settings.operatorsTimeoutMs)}: ${names.join('; ') || 'the image registry is not ready'}.`,
        );
      }
    };

    await Promise.all([
      outcome && !settings.dryRun ? phase('registry', 'waiting for the image registry to be ready', registryWait) : undefined,
      settings.waitForOperators
        ? phase('operators', `waiting for every ClusterOperator to be stable for ${formatDuration(settings.stablePeriodMs)}`, operatorsWait)
        : operatorsWait(context.log),
    ]);
    if (signal.aborted) throw new Error('Cancelled: the job was stopped before the install finished.');
  } finally {
    clearInterval(progress);
    if (approver) {
      await approver.settled().catch(() => undefined);
      approver.stop();
      collect(true);
    }
  }
}

function snapshot(approver: CsrApprover, report: RunReport, final: boolean): void {
  report.approvedCsrs = approver.approvedCsrs();
  report.refusedCsrs = approver.refusedCsrs();
  report.nodes = approver.nodeStatuses();
  report.nodesReady = approver.allDone();
  // One pass over every CSR: only for the failure message and the diagnostics.
  if (final) report.nodesMissing = approver.missing();
}

function tagged(log: Log, tag: string): Log {
  return {
    info: (message) => log.info(`[${tag}] ${message}`),
    warning: (message) => log.warning(`[${tag}] ${message}`),
    debug: (message) => log.debug(`[${tag}] ${message}`),
  };
}

async function preflight(settings: Settings, { gateway, log }: RunContext): Promise<void> {
  const checks = requiredPermissions(settings);
  const missing = await gateway.missingPermissions(checks);
  if (missing.length === 0) {
    log.info(`all ${checks.length} permissions the chosen inputs need are granted`);
    return;
  }
  const rules = missing.map(describeRule).join('; ');
  if (settings.dryRun) {
    log.warning(`a real run would fail: missing permissions ${rules}`);
    return;
  }
  throw new PermissionError(`Missing permissions (see deploy/rbac.yaml), add: ${rules}.`);
}

/**
 * The renewal service: approve, with the same policy, the requests of the listed machines until
 * `signal` aborts. Nodes of UPI clusters renew their serving certificates every few months and
 * nothing else approves them (no Machine API, so no machine approver).
 */
export async function keepApproving(
  settings: Settings,
  report: RunReport,
  context: RunContext & { readonly reloadNodes?: () => Settings['nodes'] | undefined },
): Promise<void> {
  await context.group('Preflight: permissions', () => preflight({ ...settings, waitForOperators: false, registry: { ...settings.registry, storage: 'keep' } }, context));
  const log = tagged(context.log, 'watch');
  const approver = new CsrApprover(context.gateway, { expected: settings.nodes, dryRun: settings.dryRun, pollIntervalMs: settings.pollIntervalMs, log });
  await approver.start();
  log.info(`approving the requests of ${settings.nodes.length} listed machines until stopped`);
  await new Promise<void>((resolve) => {
    const reload = setInterval(() => {
      const nodes = context.reloadNodes?.();
      if (nodes) approver.updateExpected(nodes);
      snapshot(approver, report, false);
    }, Math.min(settings.pollIntervalMs, 1000));
    const stop = () => {
      clearInterval(reload);
      resolve();
    };
    if (context.signal.aborted) stop();
    context.signal.addEventListener('abort', stop);
  });
  await approver.settled().catch(() => undefined);
  approver.stop();
  snapshot(approver, report, true);
}
