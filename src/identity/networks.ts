// What bounds the addresses of a machine listed without addresses: the cluster's own networks.
// Pure: the bounds (read from the cluster and the inputs, finish/networks.ts) and an IP in, the
// rule it breaks out. A node writes its own status.addresses, so without a bound it could name
// the Kubernetes service IP, the API or ingress VIP, or any address at all; the cluster knows
// which networks its machines live in, and which addresses are never a machine's own.
import type { ClusterNetworkFacts } from '../cluster/network-calls.ts';
import { canonicalIp } from '../net/address.ts';
import { cidrContains, parseCidr, type Cidr } from '../net/cidr.ts';

export interface NetworkBounds {
  /** The machine networks; empty: none found, so an address is not required to lie in one. */
  readonly machineNetworks: readonly Cidr[];
  /** Where the machine networks came from (input machine-networks, Infrastructure, install-config). */
  readonly machineNetworksFrom: string;
  readonly serviceNetworks: readonly Cidr[];
  readonly clusterNetworks: readonly Cidr[];
  /** The API and ingress VIPs, canonical (canonicalIp). */
  readonly vips: readonly string[];
}

/** The reason codes of policy.ts a bound gives. */
export type BoundBreach = 'san-cluster-vip' | 'san-service-network' | 'san-cluster-network' | 'san-outside-machine-network';

/** The first rule `ip` breaks (its reason code), with what it lies in; undefined when the bounds allow it. */
export function boundBreach(ip: string, bounds: NetworkBounds): [BoundBreach, string] | undefined {
  const canonical = canonicalIp(ip) ?? ip;
  if (bounds.vips.includes(canonical)) return ['san-cluster-vip', `${ip} is an API or ingress VIP of the cluster`];
  const service = bounds.serviceNetworks.find((n) => cidrContains(n, ip));
  if (service) return ['san-service-network', `${ip} lies in the service network ${service.text}`];
  const pods = bounds.clusterNetworks.find((n) => cidrContains(n, ip));
  if (pods) return ['san-cluster-network', `${ip} lies in the cluster network ${pods.text}`];
  if (bounds.machineNetworks.length > 0 && !bounds.machineNetworks.some((n) => cidrContains(n, ip))) {
    return ['san-outside-machine-network', `${ip} lies in no machine network (${cidrTexts(bounds.machineNetworks)}, from ${bounds.machineNetworksFrom})`];
  }
  return undefined;
}

/** The bounds in one line, for the log and the report. */
export function describeBounds(bounds: NetworkBounds): string {
  const machine = bounds.machineNetworks.length > 0 ? `within the machine networks ${cidrTexts(bounds.machineNetworks)} (from ${bounds.machineNetworksFrom})` : 'in any network (no machine network found)';
  return `${machine}, ${describeExclusions(bounds)}`;
}

/** What is never accepted, whatever the machine networks. */
export function describeExclusions(bounds: NetworkBounds): string {
  return `never in the service network (${cidrTexts(bounds.serviceNetworks)}) or the cluster network (${cidrTexts(bounds.clusterNetworks)}), nor a VIP (${bounds.vips.join(', ') || 'none found'})`;
}

const cidrTexts = (cidrs: readonly Cidr[]): string => cidrs.map((c) => c.text).join(', ') || 'none found';

/**
 * The bounds from what was read and the machine-networks input (which, set, replaces the
 * cluster's machine networks). A source not read ('absent', 'forbidden') adds nothing; an entry
 * that is no CIDR or IP is skipped.
 */
export function boundsOf(facts: ClusterNetworkFacts, input: readonly Cidr[]): NetworkBounds {
  const cidrs = (texts: readonly string[]) => uniqueCidrs(texts.map(parseCidr).filter((c): c is Cidr => c !== undefined));
  // A machine network of prefix 0 bounds nothing: counted as none found (the warning says so), as
  // the machine-networks input refuses one.
  const bounding = (list: Cidr[]) => list.filter((c) => c.prefix > 0);
  const fromInfrastructure = typeof facts.infrastructure === 'string' ? [] : bounding(cidrs(facts.infrastructure.machineNetworks));
  const fromInstallConfig = facts.installConfig === undefined || typeof facts.installConfig === 'string' ? [] : bounding(cidrs(facts.installConfig.machineNetworks));
  const sources = [fromInfrastructure.length > 0 ? 'Infrastructure cluster' : '', fromInstallConfig.length > 0 ? 'the install-config in kube-system/cluster-config-v1' : ''].filter(Boolean);
  const network = typeof facts.network === 'string' ? { serviceNetworks: [], clusterNetworks: [] } : facts.network;
  const vips = typeof facts.infrastructure === 'string' ? [] : facts.infrastructure.vips.map((ip) => canonicalIp(ip)).filter((ip): ip is string => ip !== undefined);
  return {
    machineNetworks: input.length > 0 ? input : uniqueCidrs([...fromInfrastructure, ...fromInstallConfig]),
    machineNetworksFrom: input.length > 0 ? 'input machine-networks' : sources.join(' and '),
    serviceNetworks: cidrs(network.serviceNetworks),
    clusterNetworks: cidrs(network.clusterNetworks),
    vips: [...new Set(vips)],
  };
}

function uniqueCidrs(list: readonly Cidr[]): Cidr[] {
  return list.filter((cidr, i) => list.findIndex((c) => c.text === cidr.text) === i);
}
