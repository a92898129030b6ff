// Preflight, before the approver starts: the bounds for the machines listed without addresses,
// from the machine-networks input and what the cluster knows of its networks (identity/networks.ts
// decides with them). Read once per run; the --watch service reads them at its start.
import { INSTALL_CONFIG_MAP } from '../cluster/paths.ts';
import { boundsOf, describeBounds, describeExclusions, type NetworkBounds } from '../identity/networks.ts';
import { undeclaredMachines } from '../settings/inventory.ts';
import type { Settings } from '../settings/settings.ts';
import type { RunContext } from './context.ts';
import { missingPermissionsError, networkPermissions } from './permissions.ts';

/**
 * Reads the bounds and says once what they are; without a machine network (none in the input
 * nor the cluster), a warning that the machines listed without addresses keep the rule of
 * their Node's own addresses. A refused read fails a real run (the preflight checked it, so the
 * role changed since: no silently weaker bound); a dry-run, which goes on without its
 * permissions, counts it as nothing found.
 */
export async function readNetworkBounds(settings: Settings, context: Pick<RunContext, 'gateway' | 'log'>): Promise<NetworkBounds> {
  const facts = await context.gateway.readClusterNetworks({ installConfig: settings.machineNetworks.length === 0 });
  const bounds = boundsOf(facts, settings.machineNetworks);
  const unread = Object.entries(facts).filter(([, read]) => read === 'forbidden').map(([source]) => source);
  if (unread.length > 0 && !settings.dryRun) throw missingPermissionsError(networkPermissions(settings).filter((check) => unread.includes(SOURCE_OF[check.resource]!)));
  const names = undeclaredMachines(settings.nodes);
  const who = names.length > 0 ? `the machines listed without addresses (${names.join(', ')})` : 'a machine listed without addresses';
  const absent = [facts.network === 'absent' ? 'Network cluster (config.openshift.io): no service or cluster network is excluded' : '', facts.infrastructure === 'absent' ? 'Infrastructure cluster (config.openshift.io): no VIP is excluded' : ''].filter(Boolean);
  if (absent.length > 0) context.log.warning(`not found, so ${who} ${names.length > 0 ? 'are' : 'is'} bounded less: ${absent.join('; ')}. Declare the addresses in the inventory`);
  if (bounds.machineNetworks.length === 0) {
    const looked = ['Infrastructure cluster status.platformStatus', ...(facts.installConfig === undefined ? [] : [`the install-config in ConfigMap kube-system/${INSTALL_CONFIG_MAP}`])];
    context.log.warning(
      `no machine network found (looked at ${looked.join(' and ')}${unread.length > 0 ? `; not readable: ${unread.join(', ')}` : ''}): ${who} may get a certificate for any InternalIP/ExternalIP its Node reports, ${describeExclusions(bounds)}. Set machine-networks, or declare the addresses`,
    );
  } else {
    context.log.info(`${who}: IP addresses accepted ${describeBounds(bounds)}`);
  }
  return bounds;
}

/** The fact each permission of networkPermissions reads. */
const SOURCE_OF: Record<string, string> = { networks: 'network', infrastructures: 'infrastructure', configmaps: 'installConfig' };
