// The machines a pipeline added, from what it already has: the `nodes` lines, or an inventory file
// in one of the forms an install flow writes (detected, see parseInventory). Every form ends in
// the same checks: valid node names, each listed once, each address an IP or DNS name held by one
// machine only, and no address a certificate may never carry (policy.ts refuses those anyway:
// declaring one is a mistake, said at once rather than as a request left Pending).
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { canonicalDnsName, canonicalIp, ipBytes, isDnsSubdomain, specialIpKind } from '../net/address.ts';
import { InputError } from './input-error.ts';
import { isMapping, nmstateHost, type HostEntry } from './nmstate.ts';

/** A machine the pipeline added, with the addresses it may put in its serving certificate. */
export interface ExpectedNode {
  readonly name: string;
  /** Canonical IPs (see canonicalIp) declared for the machine. */
  readonly ips: readonly string[];
  /** Lowercase DNS names declared for the machine. */
  readonly dnsNames: readonly string[];
}

/** The machines listed without addresses (an inventory's DHCP hosts among them): their Nodes' own addresses count. */
export const undeclaredMachines = (nodes: readonly ExpectedNode[]): string[] => nodes.filter((n) => n.ips.length + n.dnsNames.length === 0).map((n) => n.name);

/** Where a list came from, for messages: the input, and the file when it was read from one. */
interface Source {
  readonly input: string;
  readonly file?: string;
  readonly accepted: string;
}

const NODES_ACCEPTED = 'one machine per line or comma-separated entry: a node name (lowercase RFC 1123), optionally followed by its IP addresses and DNS names separated by spaces';

/** The forms of an inventory file, as messages list them. */
export const INVENTORY_FORMS =
  'lines as in the nodes input; an OpenShift nodes-config.yaml (oc adm node-image create) or agent-config.yaml (hosts[].hostname and the static addresses of hosts[].networkConfig); or a YAML or JSON list of {name, addresses}';

/** Splits on newlines and commas, drops blank entries and # comments. */
export function entries(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.replace(/#.*$/, ''))
    .flatMap((line) => line.split(','))
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}

/** The `nodes` input (and the lines form of an inventory file). */
export function parseNodes(text: string, source: Source = { input: 'nodes', accepted: NODES_ACCEPTED }): ExpectedNode[] {
  return machines(
    entries(text).map((entry) => {
      const [name, ...addresses] = entry.split(/\s+/);
      return { name: name ?? '', addresses };
    }),
    source,
  );
}

/** The machines of an inventory file, read as the input `input` names it (the action's inventory, the CLI's --nodes-file). */
export function readInventory(path: string, input: string): ExpectedNode[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InputError(input, `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, `a readable file: ${INVENTORY_FORMS}`);
  }
  return parseInventory(text, path, input);
}

/**
 * An inventory file's machines, whatever its form: lines are tried first (a line of names and
 * addresses is also a YAML scalar, and an IPv6 address ending in `::` would read as a YAML key);
 * then YAML (JSON is YAML): a mapping with `hosts` is an OpenShift host inventory, a sequence a
 * list of {name, addresses}. Anything else is refused, naming the file and the forms.
 */
export function parseInventory(text: string, file: string, input: string): ExpectedNode[] {
  const source = { input, file, accepted: INVENTORY_FORMS };
  let linesError: InputError;
  try {
    return parseNodes(text, { ...source, accepted: `${INVENTORY_FORMS} (read as lines: ${NODES_ACCEPTED})` });
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    linesError = error;
  }
  let doc: unknown;
  try {
    doc = parseYaml(text, { uniqueKeys: true, maxAliasCount: 0 });
  } catch (error) {
    throw new InputError(input, `${file} is no inventory: not lines (${linesError.detail.split('. Accepted')[0]}) and not YAML or JSON (${(error as Error).message.split('\n')[0]})`, INVENTORY_FORMS);
  }
  if (Array.isArray(doc)) return machines(doc.map((item, i) => listEntry(item, i, source)), source);
  if (isMapping(doc) && Array.isArray(doc.hosts)) return machines(doc.hosts.map((host, i) => hostEntry(host, i, source)), source);
  if (isMapping(doc)) {
    throw new InputError(input, `${file} is a YAML mapping without a hosts list (keys: ${Object.keys(doc).slice(0, 5).join(', ') || 'none'}), so neither a nodes-config.yaml, an agent-config.yaml nor a list`, INVENTORY_FORMS);
  }
  // One word that is no machine (a node name alone would be one): a token file given by mistake
  // reads so, and its text is not quoted back.
  if (typeof doc === 'string' && !/\s/.test(text.trim())) throw new InputError(input, `${file} is no inventory: one line that is not a machine (a node name, then its addresses)`, INVENTORY_FORMS);
  throw linesError;
}

function hostEntry(host: unknown, index: number, source: Source): HostEntry {
  const where = `${source.file}: hosts[${index}]`;
  if (!isMapping(host)) throw new InputError(source.input, `${where} is not a mapping`, source.accepted);
  try {
    return nmstateHost(host);
  } catch (error) {
    throw new InputError(source.input, `${where}: ${(error as Error).message}`, source.accepted);
  }
}

const LIST_KEYS = new Set(['name', 'addresses']);

function listEntry(item: unknown, index: number, source: Source): HostEntry {
  const where = `${source.file}: entry ${index + 1}`;
  if (!isMapping(item)) throw new InputError(source.input, `${where} is not a mapping of name and addresses`, source.accepted);
  const unknown = Object.keys(item).filter((key) => !LIST_KEYS.has(key));
  if (unknown.length > 0) throw new InputError(source.input, `${where} has ${unknown.map((k) => `'${k}'`).join(', ')}: only name and addresses are read`, source.accepted);
  const addresses = item.addresses ?? [];
  if (typeof item.name !== 'string') throw new InputError(source.input, `${where} has no name`, source.accepted);
  if (!Array.isArray(addresses) || !addresses.every((a) => typeof a === 'string')) {
    throw new InputError(source.input, `${where} (${item.name}): addresses is not a list of IP addresses and DNS names`, source.accepted);
  }
  return { name: item.name, addresses };
}

/** The checks every form ends in; messages name the file (when there is one) and the machine. */
function machines(list: readonly HostEntry[], source: Source): ExpectedNode[] {
  const fail = (problem: string) => new InputError(source.input, source.file ? `${source.file}: ${problem}` : problem, source.accepted);
  const nodes: ExpectedNode[] = [];
  const owner = new Map<string, string>();
  for (const { name, addresses } of list) {
    if (!isDnsSubdomain(name)) throw fail(`'${name}' is not a valid node name`);
    if (nodes.some((n) => n.name === name)) throw fail(`node '${name}' is listed twice`);
    const ips: string[] = [];
    const dnsNames: string[] = [];
    for (const address of addresses) {
      const ip = canonicalIp(address);
      const dns = ip === undefined && !/^[\d.]+$/.test(address) && isDnsSubdomain(canonicalDnsName(address)) ? canonicalDnsName(address) : undefined;
      if (ip === undefined && dns === undefined) throw fail(`'${address}' (for node '${name}') is neither an IP address nor a DNS name`);
      if (dns !== undefined && isLocalhost(dns)) throw fail(`'${address}' (for node '${name}') names this host (localhost), which no serving certificate may carry: declare the machine's own name`);
      const special = ip === undefined ? undefined : specialIpKind(ipBytes(ip)!);
      if (special) throw fail(`'${address}' (for node '${name}') is ${SPECIAL_WORDS[special]}, which no serving certificate may carry: declare the machine's own address`);
      const key = ip ?? dns!;
      const previous = owner.get(key);
      if (previous !== undefined && previous !== name) throw fail(`address '${address}' is declared for both '${previous}' and '${name}'`);
      owner.set(key, name);
      if (ip !== undefined && !ips.includes(ip)) ips.push(ip);
      if (dns !== undefined && !dnsNames.includes(dns)) dnsNames.push(dns);
    }
    nodes.push({ name, ips, dnsNames });
  }
  return nodes;
}

/** localhost, *.localhost (RFC 6761) and localhost.localdomain: every host's own name. */
const isLocalhost = (dns: string): boolean => dns === 'localhost' || dns.endsWith('.localhost') || dns === 'localhost.localdomain';

const SPECIAL_WORDS = {
  loopback: 'a loopback address',
  unspecified: 'an unspecified address',
  'link-local': 'a link-local address',
  multicast: 'a multicast address',
  broadcast: 'the broadcast address',
  'ipv4-in-ipv6': 'an IPv4-mapped or IPv4-compatible IPv6 address',
} as const;
