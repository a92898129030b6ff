// MachineConfigPools (DOMAIN 7b): the signal that the new nodes run the cluster's configuration.
// A pool is rolled out when Updated=True, Degraded=False, every machine is updated and ready, the
// controller has seen the pool's current generation, and it counts every Node it selects: a pool
// whose controller has not yet seen a node that just joined still reports all its machines done.
import type { MachineConfigPoolInfo, NodeInfo } from '../cluster/objects.ts';

/** One entry of the `machine-config-pools` output. */
export interface PoolState {
  readonly name: string;
  readonly updated: boolean;
  readonly degraded: boolean;
  readonly machineCount: number;
  readonly updatedMachineCount: number;
  readonly readyMachineCount: number;
}

export function poolState(name: string, pool: MachineConfigPoolInfo | undefined): PoolState {
  const is = (type: string) => pool?.conditions.some((c) => c.type === type && c.status === 'True') ?? false;
  return {
    name,
    updated: is('Updated'),
    degraded: is('Degraded'),
    machineCount: pool?.machineCount ?? 0,
    updatedMachineCount: pool?.updatedMachineCount ?? 0,
    readyMachineCount: pool?.readyMachineCount ?? 0,
  };
}

/** The Nodes a pool selects: spec.nodeSelector's labels, node-role.kubernetes.io/<pool> without one. */
export function poolMembers(pool: MachineConfigPoolInfo, nodes: readonly NodeInfo[]): NodeInfo[] {
  const selector = Object.keys(pool.nodeSelector).length > 0 ? pool.nodeSelector : { [`node-role.kubernetes.io/${pool.name}`]: '' };
  return nodes.filter((n) => Object.entries(selector).every(([key, value]) => n.labels?.[key] === value));
}

export function isRolledOut(pool: MachineConfigPoolInfo | undefined, nodes: readonly NodeInfo[]): boolean {
  if (!pool) return false;
  const status = (type: string) => pool.conditions.find((c) => c.type === type)?.status;
  return (
    status('Updated') === 'True' &&
    status('Degraded') === 'False' &&
    pool.machineCount === pool.updatedMachineCount &&
    pool.machineCount === pool.readyMachineCount &&
    pool.observedGeneration >= pool.generation &&
    pool.machineCount >= poolMembers(pool, nodes).length
  );
}

/** What a pool still lacks, in a few words; '' when rolled out. */
export function whatPoolLacks(name: string, pool: MachineConfigPoolInfo | undefined, nodes: readonly NodeInfo[]): string {
  if (!pool) return `MachineConfigPool ${name} not found`;
  if (isRolledOut(pool, nodes)) return '';
  const degraded = pool.conditions.find((c) => c.type === 'Degraded' && c.status === 'True');
  if (degraded) return `MachineConfigPool ${name} Degraded${degraded.message ? `: ${degraded.message}` : ''}`;
  if (pool.observedGeneration < pool.generation) return `MachineConfigPool ${name} generation ${pool.generation} not observed yet`;
  const members = poolMembers(pool, nodes).length;
  if (pool.machineCount < members) return `MachineConfigPool ${name} counts ${pool.machineCount} of the ${members} Nodes it selects`;
  return `MachineConfigPool ${name} ${pool.updatedMachineCount}/${pool.machineCount} updated, ${pool.readyMachineCount}/${pool.machineCount} ready`;
}
