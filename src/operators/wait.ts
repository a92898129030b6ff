import { statusOf } from '../cluster/errors.ts';
import type { ClusterGateway } from '../cluster/gateway.ts';
import type { Informer } from '../cluster/informer.ts';
import type { ClusterOperatorInfo } from '../cluster/objects.ts';
import type { Log } from '../log.ts';
import { observe, startClock, type Observation, type OperatorState } from './stability.ts';

export interface OperatorWaitOptions {
  readonly ignore: readonly string[];
  readonly stablePeriodMs: number;
  readonly deadline: number;
  readonly pollIntervalMs: number;
  readonly log: Log;
  readonly signal?: AbortSignal;
  /** A further condition the wait needs (the registry's own readiness), re-checked on each tick. */
  readonly alsoRequire?: () => boolean;
  /** Evaluate once and return (dry-run). */
  readonly once?: boolean;
  /** Called after every observation (live progress). */
  readonly onObservation?: (observation: Observation) => void;
}

export interface OperatorWaitResult {
  readonly stable: boolean;
  /** The full objects of the unstable operators (conditions, related objects), for diagnostics. */
  readonly unstableDetails: readonly ClusterOperatorInfo[];
  readonly unstable: readonly OperatorState[];
  readonly ignored: readonly OperatorState[];
}

/**
 * Lists and watches the ClusterOperators until the returned informer is stopped: started with the
 * run, so that whichever phase fails first, the report can name the operators as they are.
 */
export async function watchClusterOperators(gateway: ClusterGateway, pollIntervalMs: number): Promise<Informer<ClusterOperatorInfo>> {
  const informer = gateway.clusterOperatorInformer(pollIntervalMs);
  try {
    await informer.start();
    return informer;
  } catch (error) {
    informer.stop();
    if (statusOf(error) !== 404) throw error;
    throw new Error('the cluster has no config.openshift.io ClusterOperator kind: is this an OpenShift cluster? Set wait-for-operators: false to skip the operator wait.');
  }
}

/** Waits until every ClusterOperator (less the ignored) has been stable for the stable period. */
export async function waitForStableOperators(informer: Informer<ClusterOperatorInfo>, options: OperatorWaitOptions): Promise<OperatorWaitResult> {
  let clock = startClock(Date.now());
  let latest: Observation | undefined;
  let stopListening = () => {};
  try {
    return await new Promise<OperatorWaitResult>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      let finished = false;
      const finish = (stable: boolean) => {
        finished = true;
        clearTimeout(timer);
        const unstable = latest?.unstable ?? [];
        const unstableDetails = informer.values().filter((o) => unstable.some((u) => u.name === o.name));
        resolve({ stable, unstable, unstableDetails, ignored: latest?.ignored ?? [] });
      };
      const tick = () => {
        if (finished) return;
        const now = Date.now();
        latest = observe(clock, informer.values(), options.ignore, options.stablePeriodMs, now);
        clock = latest.clock;
        for (const line of latest.transitions) options.log.info(line);
        options.onObservation?.(latest);
        const extra = options.alsoRequire?.() ?? true;
        if ((latest.done && extra) || options.once) return finish(latest.done && extra);
        if (now >= options.deadline || options.signal?.aborted) return finish(false);
        clearTimeout(timer);
        const untilStable = clock.stableSince === undefined ? Infinity : clock.stableSince + options.stablePeriodMs - now;
        timer = setTimeout(tick, Math.max(10, Math.min(untilStable, options.deadline - now, 1000)));
      };
      const unsubscribe = informer.onChange(() => setImmediate(tick));
      options.signal?.addEventListener('abort', tick, { once: true });
      stopListening = () => {
        unsubscribe();
        options.signal?.removeEventListener('abort', tick);
      };
      tick();
    });
  } finally {
    stopListening();
  }
}
