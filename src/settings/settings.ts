import { isDnsSubdomain } from '../net/address.ts';
import { parseCidr, type Cidr } from '../net/cidr.ts';
import { parseDuration } from './duration.ts';
import { InputError } from './input-error.ts';
import { INPUTS, type InputName } from './inputs.ts';
import { entries, parseNodes, readInventory, type ExpectedNode } from './inventory.ts';

export type RegistryStorage = 'keep' | 'emptyDir' | 'pvc';
export type AccessMode = 'ReadWriteOnce' | 'ReadWriteMany';
export type RolloutChoice = 'auto' | 'Recreate' | 'RollingUpdate';

export interface RegistryRequest {
  readonly storage: RegistryStorage;
  /** Empty: the operator's default claim. */
  readonly claim: string;
  /** Empty: do not create the claim. */
  readonly size: string;
  readonly accessMode: AccessMode;
  readonly storageClass: string;
  readonly rolloutStrategy: RolloutChoice;
  readonly replicas: number | undefined;
  readonly timeoutMs: number;
}

export interface Settings {
  readonly kubeconfig: string;
  readonly context: string;
  readonly nodes: readonly ExpectedNode[];
  /** The inventory file the nodes were read from (input inventory, CLI --nodes-file); '' for the nodes input. */
  readonly inventory: string;
  /** Replace the cluster's machine networks, bounding the machines listed without addresses (identity/networks.ts); empty: the cluster's. */
  readonly machineNetworks: readonly Cidr[];
  /** The longest certificate a request may ask for (spec.expirationSeconds); undefined: no cap. */
  readonly maxRequestedSeconds: number | undefined;
  readonly nodesTimeoutMs: number;
  readonly waitForOperators: boolean;
  readonly stablePeriodMs: number;
  readonly operatorsTimeoutMs: number;
  readonly ignoreOperators: readonly string[];
  /** Within the operator wait: ClusterVersion `version` complete (DOMAIN 7b). */
  readonly waitForClusterVersion: boolean;
  /** MachineConfigPools to wait for, within the operator wait's deadline. */
  readonly machineConfigPools: readonly string[];
  readonly registry: RegistryRequest;
  readonly dryRun: boolean;
  readonly pollIntervalMs: number;
  readonly summary: boolean;
}

export { actionInputName, InputError, type InputNaming } from './input-error.ts';
export { parseNodes, type ExpectedNode } from './inventory.ts';

export type InputReader = (name: InputName) => string;

/** Reads every input through `read` (which returns '' for an unset input) and validates it. */
export function parseSettings(read: InputReader): Settings {
  const raw = (name: InputName): string => {
    const value = read(name).trim();
    return value === '' ? (INPUTS.find((i) => i.name === name)?.default ?? '') : value;
  };
  const storage = oneOf(raw, 'registry-storage', ['keep', 'emptyDir', 'pvc'] as const);
  const registry: RegistryRequest = {
    storage,
    claim: kubeName(raw, 'registry-pvc-claim'),
    size: quantity(raw, 'registry-pvc-size'),
    accessMode: oneOf(raw, 'registry-pvc-access-mode', ['ReadWriteOnce', 'ReadWriteMany'] as const),
    storageClass: kubeName(raw, 'registry-pvc-storage-class'),
    rolloutStrategy: oneOf(raw, 'registry-rollout-strategy', ['auto', 'Recreate', 'RollingUpdate'] as const),
    replicas: replicas(raw),
    timeoutMs: duration(raw, 'registry-timeout', { allowZero: false }),
  };
  checkRegistryCombination(registry);
  const settings: Settings = {
    kubeconfig: read('kubeconfig').trim(),
    context: contextName(raw),
    ...listedMachines(raw),
    machineNetworks: cidrList(raw('machine-networks')),
    maxRequestedSeconds: optionalDuration(raw, 'max-requested-duration'),
    nodesTimeoutMs: duration(raw, 'nodes-timeout', { allowZero: false }),
    waitForOperators: bool(raw, 'wait-for-operators'),
    stablePeriodMs: duration(raw, 'stable-period', { allowZero: true }),
    operatorsTimeoutMs: duration(raw, 'operators-timeout', { allowZero: false }),
    ignoreOperators: parseNameList(raw('ignore-operators'), 'ignore-operators'),
    waitForClusterVersion: bool(raw, 'wait-for-cluster-version'),
    machineConfigPools: parseNameList(raw('machine-config-pools'), 'machine-config-pools'),
    registry,
    dryRun: bool(raw, 'dry-run'),
    pollIntervalMs: duration(raw, 'poll-interval', { allowZero: false }),
    summary: bool(raw, 'summary'),
  };
  return deepFreeze(settings);
}

type Raw = (name: InputName) => string;

/** The machines, from the nodes input or the inventory file (never both). */
function listedMachines(raw: Raw): Pick<Settings, 'nodes' | 'inventory'> {
  const inventory = raw('inventory');
  if (inventory === '') return { nodes: parseNodes(raw('nodes')), inventory };
  if (raw('nodes') !== '') throw new InputError('inventory', 'is set and so is nodes', 'one of them: the machines in nodes, or the path of a file in inventory');
  return { nodes: readInventory(inventory, 'inventory'), inventory };
}

function cidrList(text: string): Cidr[] {
  const cidrs: Cidr[] = [];
  for (const entry of entries(text)) {
    const cidr = parseCidr(entry);
    const accepted = 'CIDRs such as 10.0.0.0/16 or fd00:10::/64, separated by newlines or commas';
    if (!cidr) throw new InputError('machine-networks', `'${entry}' is not a CIDR`, accepted);
    if (cidr.prefix === 0) throw new InputError('machine-networks', `'${entry}' bounds nothing`, `${accepted}; leave it empty to use the cluster's machine networks`);
    if (!cidrs.some((c) => c.text === cidr.text)) cidrs.push(cidr);
  }
  return cidrs;
}

function optionalDuration(raw: Raw, name: InputName): number | undefined {
  return raw(name) === '' ? undefined : duration(raw, name, { allowZero: false }) / 1000;
}

function oneOf<const T extends readonly string[]>(raw: Raw, name: InputName, allowed: T): T[number] {
  const value = raw(name);
  const match = allowed.find((a) => a === value);
  if (match === undefined) throw new InputError(name, `'${value}' is not a known value`, allowed.join(', '));
  return match;
}

function bool(raw: Raw, name: InputName): boolean {
  return oneOf(raw, name, ['true', 'false'] as const) === 'true';
}

function duration(raw: Raw, name: InputName, { allowZero }: { allowZero: boolean }): number {
  const value = raw(name);
  const ms = parseDuration(value);
  const accepted = `a duration such as 90s, 15m, 1h or 1h30m${allowZero ? ' (0s allowed)' : ', greater than zero'}`;
  if (ms === undefined) throw new InputError(name, `'${value}' is not a duration`, accepted);
  if (ms === 0 && !allowZero) throw new InputError(name, 'must be greater than zero', accepted);
  if (name === 'poll-interval' && ms < 1000) throw new InputError(name, 'must be at least 1s', accepted);
  return ms;
}

function kubeName(raw: Raw, name: InputName): string {
  const value = raw(name);
  if (value !== '' && !isDnsSubdomain(value)) {
    throw new InputError(name, `'${value}' is not a valid object name`, 'lowercase letters, digits, "-" and ".", at most 253 characters');
  }
  return value;
}

function contextName(raw: Raw): string {
  const value = raw('context');
  if (/[\s]/.test(value)) throw new InputError('context', `'${value}' contains white space`, 'a context name from the kubeconfig');
  return value;
}

const QUANTITY = /^(\d+)(\.\d+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/;

function quantity(raw: Raw, name: InputName): string {
  const value = raw(name);
  if (value === '') return value;
  const match = QUANTITY.exec(value);
  if (!match || Number(`${match[1]}${match[2] ?? ''}`) <= 0) {
    throw new InputError(name, `'${value}' is not a positive storage quantity`, 'a Kubernetes quantity such as 100Gi, 500Mi or 1Ti');
  }
  return value;
}

function replicas(raw: Raw): number | undefined {
  const value = raw('registry-replicas');
  if (value === '') return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 100) {
    throw new InputError('registry-replicas', `'${value}' is not a replica count`, 'a whole number from 1 to 100, or empty');
  }
  return Number(value);
}

function checkRegistryCombination(r: RegistryRequest): void {
  if (r.storage !== 'pvc') {
    for (const [input, value] of [
      ['registry-pvc-claim', r.claim],
      ['registry-pvc-size', r.size],
      ['registry-pvc-storage-class', r.storageClass],
    ] as const) {
      if (value !== '') throw new InputError(input, `is set but registry-storage is '${r.storage}'`, `set it only with registry-storage: pvc`);
    }
  }
  if (r.storage === 'emptyDir' && r.replicas !== undefined && r.replicas > 1) {
    throw new InputError('registry-replicas', `emptyDir storage with ${r.replicas} replicas gives each pod its own storage`, '1, or registry-storage: pvc');
  }
  if (r.storage === 'keep' && (r.replicas !== undefined || r.rolloutStrategy !== 'auto')) {
    const input = r.replicas !== undefined ? 'registry-replicas' : 'registry-rollout-strategy';
    throw new InputError(input, "is set but registry-storage is 'keep'", 'set it only with registry-storage: emptyDir or pvc');
  }
}

function parseNameList(text: string, input: InputName): string[] {
  const names = entries(text);
  for (const name of names) {
    if (!isDnsSubdomain(name)) throw new InputError(input, `'${name}' is not a valid name`, 'object names separated by newlines or commas');
  }
  return [...new Set(names)];
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
