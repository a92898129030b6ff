// The completion signals, watched from the start of the run so that whichever gate fails first
// the report shows them: ClusterVersion `version` and the MachineConfigPools named.
import { statusOf } from '../cluster/errors.ts';
import type { ClusterGateway } from '../cluster/gateway.ts';
import type { Informer } from '../cluster/informer.ts';
import type { ClusterVersionInfo, MachineConfigPoolInfo, NodeInfo } from '../cluster/objects.ts';
import { clusterVersionState, isInstallComplete, whatClusterVersionLacks, type ClusterVersionState } from './cluster-version.ts';
import { isRolledOut, poolState, whatPoolLacks, type PoolState } from './pools.ts';

export interface CompletionOptions {
  /** wait for ClusterVersion `version` to be complete */
  readonly clusterVersion: boolean;
  readonly pools: readonly string[];
  readonly pollIntervalMs: number;
  /** A Node informer shared with the approver: started here if it is not yet, never stopped here. */
  readonly nodes?: Informer<NodeInfo>;
}

export interface CompletionWatch {
  /** Every awaited signal complete. */
  done(): boolean;
  /** The outputs: `cluster-version` (undefined when not readable) and `machine-config-pools`. */
  clusterVersion(): ClusterVersionState | undefined;
  pools(): PoolState[];
  /** What each awaited signal still lacks, for the failure line and the summary. */
  lacks(): string[];
  /** Called on every change of a watched object; returns the unsubscriber. */
  onChange(listener: () => void): () => void;
  stop(): void;
}

/** undefined when there is nothing to wait for. */
export async function watchCompletion(gateway: ClusterGateway, options: CompletionOptions): Promise<CompletionWatch | undefined> {
  if (!options.clusterVersion && options.pools.length === 0) return undefined;
  const versions = options.clusterVersion ? gateway.clusterVersionInformer(options.pollIntervalMs) : undefined;
  const pools = options.pools.length > 0 ? gateway.machineConfigPoolInformer(options.pollIntervalMs) : undefined;
  // A pool is done only once it counts every Node it selects (pools.ts): the Nodes with their labels.
  const nodes = options.pools.length > 0 ? (options.nodes ?? gateway.nodeInformer(options.pollIntervalMs)) : undefined;
  const informers = [versions, pools, nodes].filter((i) => i !== undefined) as Array<Informer<ClusterVersionInfo | MachineConfigPoolInfo | NodeInfo>>;
  const owned = informers.filter((i) => i !== options.nodes);
  try {
    await Promise.all(informers.map((i) => i.start()));
  } catch (error) {
    for (const i of owned) i.stop();
    if (statusOf(error) !== 404) throw error;
    throw new Error(
      options.pools.length > 0
        ? 'the cluster has no ClusterVersion or MachineConfigPool kind: is this an OpenShift 4 cluster? Set wait-for-cluster-version: false and leave machine-config-pools empty to skip them.'
        : 'the cluster has no config.openshift.io ClusterVersion kind: is this an OpenShift 4 cluster? Set wait-for-cluster-version: false to skip it.',
    );
  }
  const version = () => versions?.values()[0];
  const pool = (name: string) => pools?.values().find((p) => p.name === name);
  const allNodes = () => nodes?.values() ?? [];
  return {
    done: () => (!versions || (version() !== undefined && isInstallComplete(version()!))) && options.pools.every((name) => isRolledOut(pool(name), allNodes())),
    clusterVersion: () => {
      const cv = version();
      return cv ? clusterVersionState(cv) : undefined;
    },
    pools: () => options.pools.map((name) => poolState(name, pool(name))),
    lacks: () => [...(versions ? [whatClusterVersionLacks(version())] : []), ...options.pools.map((name) => whatPoolLacks(name, pool(name), allNodes()))].filter(Boolean),
    onChange(listener) {
      const unsubscribers = informers.map((i) => i.onChange(() => listener()));
      return () => unsubscribers.forEach((u) => u());
    },
    stop: () => owned.forEach((i) => i.stop()),
  };
}
