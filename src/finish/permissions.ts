import type { ClusterGateway } from '../cluster/gateway.ts';
import { describeRule, type PermissionCheck } from '../cluster/permission-check.ts';
import type { Log } from '../log.ts';
import { REGISTRY_NAMESPACE } from '../cluster/gateway.ts';
import { CLIENT_SIGNER, SERVING_SIGNER } from '../identity/policy.ts';
import type { Settings } from '../settings/settings.ts';
import { DEFAULT_CLAIM } from '../registry/plan.ts';
import { CLUSTER_CONFIG_NAME, INSTALL_CONFIG_MAP } from '../cluster/paths.ts';
import { undeclaredMachines } from '../settings/inventory.ts';

/** Every permission the chosen inputs need (deploy/rbac.yaml grants the full set); `watching`: the --watch service. */
export function requiredPermissions(settings: Settings, watching = false): PermissionCheck[] {
  const checks: PermissionCheck[] = [];
  const csr = { group: 'certificates.k8s.io', resource: 'certificatesigningrequests' };
  if (settings.nodes.length > 0) {
    for (const verb of ['get', 'list', 'watch']) checks.push({ verb, ...csr });
    for (const verb of ['get', 'list', 'watch']) checks.push({ verb, group: '', resource: 'nodes' });
    checks.push({ verb: 'update', ...csr, subresource: 'approval' });
    for (const signer of [CLIENT_SIGNER, SERVING_SIGNER]) {
      checks.push({ verb: 'approve', group: 'certificates.k8s.io', resource: 'signers', name: signer });
    }
  }
  if (needsNetworkBounds(settings, watching)) checks.push(...networkPermissions(settings));
  if (settings.waitForOperators) {
    for (const verb of ['get', 'list', 'watch']) checks.push({ verb, group: 'config.openshift.io', resource: 'clusteroperators' });
  }
  // ClusterVersion: the capabilities (registry, which operators exist) and the completion signal.
  const clusterVersionVerbs = settings.waitForOperators && settings.waitForClusterVersion ? ['get', 'list', 'watch'] : settings.waitForOperators || settings.registry.storage !== 'keep' ? ['get'] : [];
  // by name: the watch selects metadata.name=version, which RBAC's resourceNames allow
  for (const verb of clusterVersionVerbs) checks.push({ verb, group: 'config.openshift.io', resource: 'clusterversions', name: 'version' });
  if (settings.waitForOperators && settings.machineConfigPools.length > 0) {
    for (const verb of ['get', 'list', 'watch']) checks.push({ verb, group: 'machineconfiguration.openshift.io', resource: 'machineconfigpools' });
    // a pool is done only once it counts the Nodes it selects
    if (settings.nodes.length === 0) for (const verb of ['get', 'list', 'watch']) checks.push({ verb, group: '', resource: 'nodes' });
  }
  if (settings.registry.storage !== 'keep') {
    for (const verb of ['get', 'patch']) {
      checks.push({ verb, group: 'imageregistry.operator.openshift.io', resource: 'configs', name: 'cluster' });
    }
    if (settings.registry.storage === 'pvc') {
      const name = settings.registry.claim || DEFAULT_CLAIM;
      checks.push({ verb: 'get', group: '', resource: 'persistentvolumeclaims', namespace: REGISTRY_NAMESPACE, name });
      if (settings.registry.size) checks.push({ verb: 'create', group: '', resource: 'persistentvolumeclaims', namespace: REGISTRY_NAMESPACE });
    }
  }
  return checks;
}

/** Whether the run reads the bounds: a machine is listed without addresses, or (--watch) the list may gain one. */
export const needsNetworkBounds = (settings: Settings, watching: boolean): boolean => watching || undeclaredMachines(settings.nodes).length > 0;

/** The reads the bounds take, each by name (deploy/rbac.yaml); the install-config only when machine-networks does not replace it. */
export function networkPermissions(settings: Settings): PermissionCheck[] {
  const name = CLUSTER_CONFIG_NAME;
  const checks: PermissionCheck[] = [
    { verb: 'get', group: 'config.openshift.io', resource: 'networks', name },
    { verb: 'get', group: 'config.openshift.io', resource: 'infrastructures', name },
  ];
  if (settings.machineNetworks.length === 0) checks.push({ verb: 'get', group: '', resource: 'configmaps', namespace: 'kube-system', name: INSTALL_CONFIG_MAP });
  return checks;
}

/** A missing permission as the RBAC rule to add. */
export class PermissionError extends Error {}

/** Every permission the inputs need, checked before anything is written; dry-run only warns. */
export async function checkPermissions(settings: Settings, gateway: ClusterGateway, log: Log, watching = false): Promise<void> {
  const checks = requiredPermissions(settings, watching);
  const missing = await gateway.missingPermissions(checks);
  if (missing.length === 0) {
    log.info(`all ${checks.length} permissions the chosen inputs need are granted`);
    return;
  }
  if (settings.dryRun) {
    log.warning(`a real run would fail: missing permissions ${missing.map(describeRule).join('; ')}`);
    return;
  }
  throw missingPermissionsError(missing);
}

export function missingPermissionsError(missing: readonly PermissionCheck[]): PermissionError {
  return new PermissionError(`Missing permissions (see deploy/rbac.yaml), add: ${missing.map(describeRule).join('; ')}.`);
}
