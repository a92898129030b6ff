// MachineConfigPools (DOMAIN 7b): the signal that the new nodes run the cluster's configuration.
// A pool is rolled out when Updated=True, Degraded=False, every machine is updated and ready, and
// the controller has seen the pool's current generation.
import type { MachineConfigPoolInfo } from '../cluster/objects.ts';

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

export function isRolledOut(pool: MachineConfigPoolInfo | undefined): boolean {
  if (!pool) return false;
  const status = (type: string) => pool.conditions.find((c) => c.type === type)?.status;
  return (
    status('Updated') === 'True' &&
    status('Degraded') === 'False' &&
    pool.machineCount === pool.updatedMachineCount &&
    pool.machineCount === pool.readyMachineCount &&
    pool.observedGeneration >= pool.generation
  );
}

/** What a pool still lacks, in a few words; '' when rolled out. */
export function whatPoolLacks(name: string, pool: MachineConfigPoolInfo | undefined): string {
  if (!pool) return `MachineConfigPool ${name} not found`;
  if (isRolledOut(pool)) return '';
  const degraded = pool.conditions.find((c) => c.type === 'Degraded' && c.status === 'True');
  if (degraded) return `MachineConfigPool ${name} Degraded${degraded.message ? `: ${degraded.message}` : ''}`;
  if (pool.observedGeneration < pool.generation) return `MachineConfigPool ${name} generation ${pool.generation} not observed yet`;
  return `MachineConfigPool ${name} ${pool.updatedMachineCount}/${pool.machineCount} updated, ${pool.readyMachineCount}/${pool.machineCount} ready`;
}
