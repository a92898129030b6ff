// Before anything is written: the permissions the inputs need, the cluster's capabilities (which
// operators exist, whether there is a registry at all) and the registry plan, so an impossible
// request fails before the first approval.
import { capabilityEnabled, clusterVersionState, operatorsOfDisabledCapabilities } from '../completion/cluster-version.ts';
import { describeBounds, type NetworkBounds } from '../identity/networks.ts';
import { precheckRegistry } from '../registry/configure.ts';
import { InputError, type Settings } from '../settings/settings.ts';
import type { RunContext } from './context.ts';
import { undeclaredMachines } from '../settings/inventory.ts';
import { readNetworkBounds } from './networks.ts';
import { checkPermissions, needsNetworkBounds } from './permissions.ts';

export interface PreflightResult {
  /** The operators not waited for: the ignore-operators input and those of disabled capabilities. */
  readonly ignore: readonly string[];
  /** What bounds the machines listed without addresses; undefined when every machine has declared addresses. */
  readonly networks: NetworkBounds | undefined;
}

export async function runPreflight(settings: Settings, context: RunContext): Promise<PreflightResult> {
  const { gateway, log, progress } = context;
  await checkPermissions(settings, gateway, log);
  let networks: NetworkBounds | undefined;
  if (needsNetworkBounds(settings, false)) {
    networks = await readNetworkBounds(settings, context);
    progress.emit({ kind: 'undeclared', names: undeclaredMachines(settings.nodes), bounds: describeBounds(networks) });
  }
  let ignore: readonly string[] = settings.ignoreOperators;
  if (settings.waitForOperators || settings.registry.storage !== 'keep') {
    const cv = await gateway.readClusterVersion().catch((error: unknown) => {
      if (settings.dryRun) return undefined; // a missing permission is already warned about
      throw error;
    });
    if (cv) progress.emit({ kind: 'cluster-version', state: clusterVersionState(cv) });
    // Since 4.14 the registry is an optional capability: without it there is nothing to configure.
    if (!capabilityEnabled(cv, 'ImageRegistry')) {
      if (settings.registry.storage !== 'keep') {
        throw new InputError('registry-storage', `${settings.registry.storage} needs the image registry, but this cluster was installed without the ImageRegistry capability (ClusterVersion status.capabilities)`, 'keep on such a cluster; or enable the capability first (spec.capabilities.additionalEnabledCapabilities: [ImageRegistry])');
      }
      progress.emit({ kind: 'no-registry' });
      log.info('the ImageRegistry capability is disabled: this cluster has no image registry (not installed)');
    }
    // The operators of disabled capabilities do not exist; nothing waits for them.
    ignore = [...new Set([...settings.ignoreOperators, ...operatorsOfDisabledCapabilities(cv)])];
  }
  if (settings.registry.storage !== 'keep') {
    const target = await precheckRegistry(gateway, settings.registry);
    if (target) progress.emit({ kind: 'registry-target', target, changed: false });
  }
  return { ignore, networks };
}
