// Phase: stable ClusterOperators, and the completion signals (ClusterVersion, MachineConfigPools)
// within the same wait and deadline. The watches start with the run, so that whichever gate fails
// first the report names the operators as they are.
import type { Informer } from '../cluster/informer.ts';
import type { ClusterOperatorInfo, NodeInfo } from '../cluster/objects.ts';
import { watchCompletion, type CompletionWatch } from '../completion/watch.ts';
import { DeadlineError } from '../errors.ts';
import { waitForStableOperators, watchClusterOperators, type OperatorWaitResult } from '../operators/wait.ts';
import { formatDuration } from '../settings/duration.ts';
import type { Settings } from '../settings/settings.ts';
import type { RunContext } from './context.ts';

export type OperatorsResult = OperatorWaitResult;

/** The ClusterOperator and completion watches, each shown in the report from when it has synced. */
export class OperatorWatches {
  /** Resolves once both have synced; rejects when one cannot be watched. */
  readonly started: Promise<void>;
  private operators: Informer<ClusterOperatorInfo> | undefined;
  private completionWatch: CompletionWatch | undefined;
  private stopped = false;

  constructor(settings: Settings, ignore: readonly string[], context: Pick<RunContext, 'gateway' | 'progress'>, nodes?: Informer<NodeInfo>) {
    const { gateway, progress } = context;
    this.started = Promise.all([
      watchClusterOperators(gateway, settings.pollIntervalMs).then((informer) => {
        this.operators = informer;
        progress.attach({ operators: { values: () => informer.values(), ignore } });
        if (this.stopped) informer.stop();
      }),
      watchCompletion(gateway, { clusterVersion: settings.waitForClusterVersion, pools: settings.machineConfigPools, pollIntervalMs: settings.pollIntervalMs, ...(nodes ? { nodes } : {}) }).then((watch) => {
        this.completionWatch = watch;
        if (watch) progress.attach({ completion: watch });
        if (this.stopped) watch?.stop();
      }),
    ]).then(() => undefined);
  }

  get informer(): Informer<ClusterOperatorInfo> | undefined {
    return this.operators;
  }

  get completion(): CompletionWatch | undefined {
    return this.completionWatch;
  }

  /** Stops what has started; a watch that syncs later stops at once (what it saw is still reported). */
  stop(): void {
    this.stopped = true;
    this.operators?.stop();
    this.completionWatch?.stop();
  }
}

/**
 * Waits until every ClusterOperator (less `ignore`) has been stable for stable-period, the
 * completion signals are done and the registry (`registryReady`) is ready, within operators-timeout.
 * Throws a DeadlineError naming what is not done at the deadline.
 */
export async function awaitStableOperators(
  settings: Settings,
  watches: OperatorWatches,
  ignore: readonly string[],
  registryReady: () => boolean,
  context: Pick<RunContext, 'log' | 'signal' | 'progress'>,
): Promise<OperatorsResult | undefined> {
  const { log, signal, progress } = context;
  const { informer, completion } = watches;
  if (!informer) return undefined;
  const also = [settings.waitForClusterVersion ? ', ClusterVersion complete' : '', settings.machineConfigPools.length ? `, MachineConfigPools ${settings.machineConfigPools.join(', ')} rolled out` : ''].join('');
  log.info(`waiting for every ClusterOperator to be stable for ${formatDuration(settings.stablePeriodMs)}${also}`);
  const result = await waitForStableOperators(informer, {
    ignore,
    stablePeriodMs: settings.stablePeriodMs,
    deadline: Date.now() + settings.operatorsTimeoutMs,
    pollIntervalMs: settings.pollIntervalMs,
    log,
    signal,
    once: settings.dryRun,
    alsoRequire: () => (registryReady() || settings.dryRun) && (completion?.done() ?? true),
  });
  progress.emit({ kind: 'operators-awaited', stable: result.stable });
  if (result.stable) progress.emit({ kind: 'milestone', at: Date.now(), event: 'operators stable' });
  if (!result.stable && !signal.aborted && !settings.dryRun) {
    const names = result.unstable.map((o) => `${o.name} (${o.message})`);
    const lacks = completion?.lacks() ?? [];
    if (names.length === 0 && lacks.length > 0) {
      throw new DeadlineError(`Install not complete within operators-timeout ${formatDuration(settings.operatorsTimeoutMs)}: ${lacks.join('; ')}.`);
    }
    throw new DeadlineError(`ClusterOperators not stable for ${formatDuration(settings.stablePeriodMs)} within ${formatDuration(settings.operatorsTimeoutMs)}: ${[...names, ...lacks].join('; ') || 'the image registry is not ready'}.`);
  }
  return result;
}
