import { canonicalDnsName, canonicalIp, isDnsSubdomain } from '../net/address.ts';
import { parseDuration } from './duration.ts';
import { INPUTS, type InputName } from './inputs.ts';

/** A machine the pipeline added, with the addresses it may put in its serving certificate. */
export interface ExpectedNode {
  readonly name: string;
  /** Canonical IPs (see canonicalIp) declared for the machine. */
  readonly ips: readonly string[];
  /** Lowercase DNS names declared for the machine. */
  readonly dnsNames: readonly string[];
}

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

/** How an entry point names an input in a message: the action `Input 'x'`, the CLI `Option --x`. */
export type InputNaming = (input: string) => string;

export const actionInputName: InputNaming = (input) => `Input '${input}'`;

/** A malformed input: names the input and the accepted forms (none: `problem` already says what to do). */
export class InputError extends Error {
  readonly input: string;
  /** The message after the input's name. */
  readonly detail: string;
  constructor(input: string, problem: string, accepted?: string) {
    const detail = accepted === undefined ? problem : `${problem}. Accepted: ${accepted}.`;
    super(`${actionInputName(input)}: ${detail}`);
    this.name = 'InputError';
    this.input = input;
    this.detail = detail;
  }

  /** The message, with the input named the way the entry point names it. */
  named(naming: InputNaming): string {
    return `${naming(this.input)}: ${this.detail}`;
  }
}

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
    nodes: parseNodes(raw('nodes')),
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

/** Splits on newlines and commas, drops blank entries and # comments. */
function entries(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.replace(/#.*$/, ''))
    .flatMap((line) => line.split(','))
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}

function parseNameList(text: string, input: InputName): string[] {
  const names = entries(text);
  for (const name of names) {
    if (!isDnsSubdomain(name)) throw new InputError(input, `'${name}' is not a valid name`, 'object names separated by newlines or commas');
  }
  return [...new Set(names)];
}

const NODES_ACCEPTED = 'one machine per line or comma-separated entry: a node name (lowercase RFC 1123), optionally followed by its IP addresses and DNS names separated by spaces';

export function parseNodes(text: string): ExpectedNode[] {
  const nodes: ExpectedNode[] = [];
  const owner = new Map<string, string>();
  for (const entry of entries(text)) {
    const [name, ...addresses] = entry.split(/\s+/);
    if (name === undefined || !isDnsSubdomain(name)) {
      throw new InputError('nodes', `'${name}' is not a valid node name`, NODES_ACCEPTED);
    }
    if (nodes.some((n) => n.name === name)) throw new InputError('nodes', `node '${name}' is listed twice`, NODES_ACCEPTED);
    const ips: string[] = [];
    const dnsNames: string[] = [];
    for (const address of addresses) {
      const ip = canonicalIp(address);
      const dns = ip === undefined && !/^[\d.]+$/.test(address) && isDnsSubdomain(canonicalDnsName(address)) ? canonicalDnsName(address) : undefined;
      if (ip === undefined && dns === undefined) {
        throw new InputError('nodes', `'${address}' (for node '${name}') is neither an IP address nor a DNS name`, NODES_ACCEPTED);
      }
      const key = ip ?? dns!;
      const previous = owner.get(key);
      if (previous !== undefined && previous !== name) {
        throw new InputError('nodes', `address '${address}' is declared for both '${previous}' and '${name}'`, NODES_ACCEPTED);
      }
      owner.set(key, name);
      if (ip !== undefined && !ips.includes(ip)) ips.push(ip);
      if (dns !== undefined && !dnsNames.includes(dns)) dnsNames.push(dns);
    }
    nodes.push({ name, ips, dnsNames });
  }
  return nodes;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
