// One host of an OpenShift host inventory: `oc adm node-image create` reads nodes-config.yaml
// (4.17+, workers added to a running cluster), the agent-based installer agent-config.yaml; both
// have hosts[] with hostname, interfaces[] and networkConfig, an nmstate document whose
// interfaces[].ipv4 / ipv6 hold enabled, dhcp (ipv6 also autoconf) and address[] of ip and
// prefix-length (DOMAIN 9).

/** A machine as an inventory lists it: its node name and the addresses declared for it. */
export interface HostEntry {
  readonly name: string;
  readonly addresses: readonly string[];
}

/**
 * The node name (the hostname, lower-cased as the kubelet does) and every static address of
 * the interfaces that are not down. A host that takes an address by DHCP or IPv6 autoconf on any
 * interface is listed by name only: its serving certificate will name an address nobody wrote
 * down, and a partial declaration would refuse it. Throws (a message without the host's place)
 * when a field has the wrong shape.
 */
export function nmstateHost(host: Readonly<Record<string, unknown>>): HostEntry {
  if (typeof host.hostname !== 'string' || host.hostname === '') throw new Error('has no hostname (the node name the machine registers with): set hosts[].hostname');
  const name = host.hostname.toLowerCase();
  const config = host.networkConfig;
  if (config === undefined || config === null) return { name, addresses: [] };
  const interfaces = isMapping(config) ? (config.interfaces ?? []) : undefined;
  if (!Array.isArray(interfaces)) throw new Error(`${name}: networkConfig.interfaces is not a list of nmstate interfaces`);
  const addresses: string[] = [];
  let dynamic = false;
  for (const [i, iface] of interfaces.entries()) {
    if (!isMapping(iface)) throw new Error(`${name}: networkConfig.interfaces[${i}] is not a mapping`);
    if (iface.state === 'down' || iface.state === 'absent') continue;
    for (const family of ['ipv4', 'ipv6'] as const) {
      const stack = iface[family];
      if (stack === undefined || stack === null) continue;
      const where = `${name}: networkConfig.interfaces[${i}] (${String(iface.name ?? '?')}) ${family}`;
      if (!isMapping(stack)) throw new Error(`${where} is not a mapping`);
      for (const flag of ['enabled', 'dhcp', 'autoconf'] as const) {
        // YAML 1.1 (the installer's reader) takes yes/on as true, this reader does not: refused, not guessed.
        if (stack[flag] !== undefined && typeof stack[flag] !== 'boolean') throw new Error(`${where}.${flag} is ${JSON.stringify(stack[flag]).slice(0, 20)}, not true or false`);
      }
      if (stack.enabled === false) continue;
      if (stack.dhcp === true || stack.autoconf === true) dynamic = true;
      const list = stack.address ?? [];
      if (!Array.isArray(list)) throw new Error(`${where}.address is not a list`);
      for (const [j, entry] of list.entries()) {
        if (!isMapping(entry) || typeof entry.ip !== 'string') throw new Error(`${where}.address[${j}] has no ip`);
        addresses.push(entry.ip);
      }
    }
  }
  return { name, addresses: dynamic ? [] : addresses };
}

/** A YAML mapping (not a list, not a scalar). */
export const isMapping = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);
