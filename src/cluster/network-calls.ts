// What the cluster knows of its own networks (DOMAIN 9), each read by name: the Network and the
// Infrastructure object `cluster`, and the install-config the installer keeps in the ConfigMap
// kube-system/cluster-config-v1. That ConfigMap is no Secret, but it holds the whole install-config
// (the installer empties pullSecret and the vSphere user name and password before storing it;
// the SSH public key, the platform settings and the proxy settings stay): only
// networking.machineNetwork is taken from it, and nothing of it is logged or kept.
import { parse as parseYaml } from 'yaml';
import type { ApiClient } from './client.ts';
import { statusOf } from './errors.ts';
import { CLUSTER_CONFIG_NAME, INSTALL_CONFIG_MAP, objectPath, PATHS } from './paths.ts';

/** One source: what it holds, or why not (absent: no such kind or object; forbidden: 401/403). */
export type Read<T> = T | 'absent' | 'forbidden';

export interface ClusterNetworkFacts {
  /** networks.config.openshift.io cluster, spec and status: serviceNetwork[], clusterNetwork[].cidr. */
  readonly network: Read<{ readonly serviceNetworks: readonly string[]; readonly clusterNetworks: readonly string[] }>;
  /** infrastructures.config.openshift.io cluster, status.platformStatus.<platform>: machineNetworks, the API and ingress VIPs. */
  readonly infrastructure: Read<{ readonly machineNetworks: readonly string[]; readonly vips: readonly string[] }>;
  /** install-config networking.machineNetwork[].cidr (and the 4.1-era machineCIDR); undefined: not read. */
  readonly installConfig?: Read<{ readonly machineNetworks: readonly string[] }>;
}

export async function readClusterNetworks(client: ApiClient, options: { readonly installConfig: boolean }): Promise<ClusterNetworkFacts> {
  const [network, infrastructure, installConfig] = await Promise.all([
    read(client, 'Network cluster', objectPath(PATHS.networks, CLUSTER_CONFIG_NAME), toNetwork),
    read(client, 'Infrastructure cluster', objectPath(PATHS.infrastructures, CLUSTER_CONFIG_NAME), toInfrastructure),
    options.installConfig ? read(client, `ConfigMap kube-system/${INSTALL_CONFIG_MAP}`, objectPath(PATHS.kubeSystemConfigMaps, INSTALL_CONFIG_MAP), toInstallConfig) : undefined,
  ]);
  return { network, infrastructure, ...(installConfig === undefined ? {} : { installConfig }) };
}

async function read<T>(client: ApiClient, what: string, path: string, convert: (o: unknown) => T): Promise<Read<T>> {
  try {
    return convert(await client.send(`read ${what}`, 'GET', path));
  } catch (error) {
    const status = statusOf(error);
    if (status === 404) return 'absent';
    if (status === 401 || status === 403) return 'forbidden';
    throw error;
  }
}

/* eslint-disable @typescript-eslint/no-explicit-any -- converters read raw API objects */
const strings = (value: any): string[] => (Array.isArray(value) ? value.filter((v) => typeof v === 'string') : typeof value === 'string' && value !== '' ? [value] : []);

function toNetwork(o: any) {
  const both = (key: string): any[] => [...(Array.isArray(o?.spec?.[key]) ? o.spec[key] : []), ...(Array.isArray(o?.status?.[key]) ? o.status[key] : [])];
  return { serviceNetworks: both('serviceNetwork').flatMap(strings), clusterNetworks: both('clusterNetwork').flatMap((entry) => strings(entry?.cidr)) };
}

/** Every platform's status block: each names the VIPs (plural, and the deprecated singular) and, on some, machineNetworks. */
function toInfrastructure(o: any) {
  const platforms = Object.values(o?.status?.platformStatus ?? {}).filter((v): v is Record<string, unknown> => v !== null && typeof v === 'object');
  return {
    machineNetworks: platforms.flatMap((p) => strings(p.machineNetworks)),
    vips: platforms.flatMap((p) => [...strings(p.apiServerInternalIPs), ...strings(p.ingressIPs), ...strings(p.apiServerInternalIP), ...strings(p.ingressIP)]),
  };
}

/** Only the machine networks; an install-config that is not YAML gives none. */
function toInstallConfig(o: any) {
  let config: any;
  try {
    config = parseYaml(String(o?.data?.['install-config'] ?? ''), { maxAliasCount: 0 });
  } catch {
    return { machineNetworks: [] };
  }
  const networking = config?.networking;
  const list = Array.isArray(networking?.machineNetwork) ? networking.machineNetwork : [];
  return { machineNetworks: [...list.flatMap((entry: any) => strings(entry?.cidr)), ...strings(networking?.machineCIDR)] };
}
