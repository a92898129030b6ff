import type { Csr, NodeInfo } from '../cluster/objects.ts';
import { canonicalDnsName, canonicalIp, ipBytes, isDnsName, specialIpKind, type SpecialIpKind } from '../net/address.ts';
import type { ExpectedNode } from '../settings/settings.ts';
import type { AddressOwners } from './addresses.ts';
import { boundBreach, type NetworkBounds } from './networks.ts';
import { BOOTSTRAPPER, CLIENT_SIGNER, MAX_CLIENT_APPROVALS_PER_NODE, SERVING_SIGNER, type ReasonCode } from './reasons.ts';
import { parseCertificateRequest, type CertificateRequest } from './x509.ts';

export { BOOTSTRAPPER, clientCertificatesWarning, CLIENT_SIGNER, isKubelet, MAX_CLIENT_APPROVALS_PER_NODE, REASONS, SERVING_SIGNER, type ReasonCode } from './reasons.ts';

const BOOTSTRAPPER_GROUPS = ['system:authenticated', 'system:serviceaccounts', 'system:serviceaccounts:openshift-machine-config-operator'];
const NODE_PREFIX = 'system:node:';
const CLIENT_USAGES = [
  ['client auth', 'digital signature'],
  ['client auth', 'digital signature', 'key encipherment'],
];
const SERVING_USAGES = [
  ['digital signature', 'server auth'],
  ['digital signature', 'key encipherment', 'server auth'],
];

export type Phase = 'client' | 'serving';

export type Verdict =
  | { readonly kind: 'ignore' }
  | { readonly kind: 'approve'; readonly phase: Phase; readonly node: string }
  | { readonly kind: 'refuse'; readonly phase: Phase; readonly node: string; readonly reason: ReasonCode; readonly detail: string };

/** What a decision reads besides the CSR: the inventory, the Nodes, this run's approvals. */
export interface PolicyView {
  readonly expected: ReadonlyMap<string, ExpectedNode>;
  readonly nodes: { get(name: string): NodeInfo | undefined; has(name: string): boolean };
  /** Client CSRs approved (or being approved) in this run, per node name. */
  readonly clientApprovals: (node: string) => number;
  /** Who else holds a name or address (addresses.ts). */
  readonly addresses: AddressOwners;
  /** Parsed requests are immutable (spec is); a cache saves re-parsing on every re-evaluation. */
  readonly parse?: (csr: Csr) => CertificateRequest;
  /** The cluster's networks, bounding the IPs of a machine listed without addresses (networks.ts); none: not bounded. */
  readonly networks?: NetworkBounds | undefined;
  /** The longest certificate a request may ask for (spec.expirationSeconds); none: no cap. */
  readonly maxExpirationSeconds?: number | undefined;
}

/**
 * Decides on one CSR. Pure: the same CSR, inventory and nodes give the same verdict. Checks run
 * in order and the first failure is the reason. CSRs that are not kubelet bootstrap or serving
 * requests (other signers, client renewals by a node, which the controller manager approves)
 * are ignored, never refused.
 */
export function decide(csr: Csr, view: PolicyView): Verdict {
  if (csr.state !== 'pending') return { kind: 'ignore' };
  if (csr.signerName === CLIENT_SIGNER) {
    if (csr.username.startsWith(NODE_PREFIX)) return { kind: 'ignore' };
    return decideClient(csr, view);
  }
  if (csr.signerName === SERVING_SIGNER) return decideServing(csr, view);
  return { kind: 'ignore' };
}

type Check = () => [ReasonCode, string] | undefined;

function firstFailure(checks: Check[]): [ReasonCode, string] | undefined {
  for (const check of checks) {
    const failure = check();
    if (failure) return failure;
  }
  return undefined;
}

function decideClient(csr: Csr, view: PolicyView): Verdict {
  let request: CertificateRequest | undefined;
  let node = '';
  const failure = firstFailure([
    () => (csr.username === BOOTSTRAPPER ? undefined : ['wrong-requester', `requested by ${csr.username}`]),
    () => (sameSet(csr.groups, BOOTSTRAPPER_GROUPS) ? undefined : ['wrong-groups', `groups ${csr.groups.join(', ')}`]),
    ...requestChecks(csr, view, CLIENT_USAGES, (parsed) => (request = parsed)),
    () => {
      const name = nodeNameFromSubject(request!);
      if (name === undefined) return ['bad-common-name', `CN ${request!.commonNames.join(', ') || '(none)'}`];
      node = name;
      return undefined;
    },
    () => (view.expected.has(node) ? undefined : ['node-not-listed', `node ${node}`]),
    () => (view.nodes.has(node) ? ['node-already-exists', `Node ${node} exists; delete it before re-provisioning the machine`] : undefined),
    () =>
      request!.dnsNames.length + request!.ipAddresses.length + request!.emailAddresses.length + request!.uris.length + request!.otherSanCount > 0
        ? ['client-has-sans', 'the request carries subject alternative names']
        : undefined,
    () => durationFailure(csr, view),
    () =>
      view.clientApprovals(node) >= MAX_CLIENT_APPROVALS_PER_NODE
        ? ['too-many-client-requests', `${view.clientApprovals(node)} client requests already approved for ${node}`]
        : undefined,
  ]);
  return failure
    ? { kind: 'refuse', phase: 'client', node, reason: failure[0], detail: failure[1] }
    : { kind: 'approve', phase: 'client', node };
}

function decideServing(csr: Csr, view: PolicyView): Verdict {
  let request: CertificateRequest | undefined;
  const node = csr.username.startsWith(NODE_PREFIX) ? csr.username.slice(NODE_PREFIX.length) : '';
  const failure = firstFailure([
    () => (node !== '' ? undefined : ['wrong-requester', `requested by ${csr.username}, not a node`]),
    () =>
      csr.groups.includes('system:nodes') && csr.groups.includes('system:authenticated')
        ? undefined
        : ['wrong-groups', `groups ${csr.groups.join(', ')}`],
    ...requestChecks(csr, view, SERVING_USAGES, (parsed) => (request = parsed)),
    () =>
      request!.commonNames.length === 1 && request!.commonNames[0] === csr.username
        ? undefined
        : ['cn-username-mismatch', `CN ${request!.commonNames.join(', ') || '(none)'} requested by ${csr.username}`],
    () => (view.expected.has(node) ? undefined : ['node-not-listed', `node ${node}`]),
    () =>
      request!.emailAddresses.length + request!.uris.length + request!.otherSanCount > 0
        ? ['forbidden-san-type', [...request!.emailAddresses, ...request!.uris].join(', ') || 'other name']
        : undefined,
    () => (request!.dnsNames.length + request!.ipAddresses.length === 0 ? ['no-sans', 'no DNS name or IP address'] : undefined),
    () => sanShapeFailure(request!),
    () => sanFailure(node, request!, view),
    () => durationFailure(csr, view),
  ]);
  return failure
    ? { kind: 'refuse', phase: 'serving', node, reason: failure[0], detail: failure[1] }
    : { kind: 'approve', phase: 'serving', node };
}

/** The checks both phases share: usages, a parsable request signed by its key, O=system:nodes and nothing but CN and O. */
function requestChecks(csr: Csr, view: PolicyView, usages: string[][], keep: (request: CertificateRequest) => void): Check[] {
  let request: CertificateRequest | undefined;
  return [
    () => usagesFailure(csr, usages),
    () => {
      const parsed = parse(csr, view);
      if (typeof parsed === 'string') return ['unparsable-request', parsed];
      request = parsed;
      keep(parsed);
      return request.signatureValid ? undefined : ['bad-signature', 'proof of possession failed'];
    },
    () => organizationFailure(request!),
    () =>
      request!.otherSubjectAttributes.length > 0
        ? ['unexpected-subject-attribute', `the subject also holds ${request!.otherSubjectAttributes.join(', ')}`]
        : undefined,
  ];
}

const SPECIAL_IP_REASONS: Record<SpecialIpKind, ReasonCode> = {
  loopback: 'san-loopback',
  unspecified: 'san-unspecified-address',
  'link-local': 'san-link-local',
  multicast: 'san-multicast',
  broadcast: 'san-broadcast',
  'ipv4-in-ipv6': 'san-ipv4-in-ipv6',
};

/**
 * Names no machine may hold, whatever was declared or the Node reports: Go's VerifyHostname
 * lets a wildcard stand for every node's name, and a loopback (or IPv4-mapped) address for
 * whatever answers there.
 */
function sanShapeFailure(request: CertificateRequest): [ReasonCode, string] | undefined {
  for (const dns of request.dnsNames) {
    if (dns.includes('*')) return ['san-wildcard', dns];
    if (!isDnsName(dns)) return ['san-invalid-dns-name', dns];
  }
  for (const ip of request.ipAddresses) {
    const bytes = ipBytes(ip);
    const kind = bytes && specialIpKind(bytes);
    if (kind) return [SPECIAL_IP_REASONS[kind], ip];
  }
  return undefined;
}

function durationFailure(csr: Csr, view: PolicyView): [ReasonCode, string] | undefined {
  const asked = csr.expirationSeconds;
  const max = view.maxExpirationSeconds;
  return asked !== undefined && max !== undefined && asked > max ? ['requested-duration-too-long', `expirationSeconds ${asked} above the maximum ${max}`] : undefined;
}

function sanFailure(node: string, request: CertificateRequest, view: PolicyView): [ReasonCode, string] | undefined {
  const sans = [
    ...request.ipAddresses.map((ip) => ({ key: canonicalIp(ip) ?? ip, text: ip })),
    ...request.dnsNames.map((dns) => ({ key: canonicalDnsName(dns), text: dns })),
  ];
  const expected = view.expected.get(node)!;
  const declared = new Set([...expected.ips, ...expected.dnsNames]);
  // Nothing declared: an IP only within what the cluster knows of its networks (networks.ts).
  for (const ip of declared.size === 0 && view.networks ? request.ipAddresses : []) {
    const breach = boundBreach(ip, view.networks!);
    if (breach) return breach;
  }
  // Declared addresses are judged against declarations only: another Node's status.addresses is
  // that machine's claim about itself (a node writes its own status), and a claim must not veto
  // what the pipeline declared. Another Node's name is its certified identity and still counts.
  const ownerOf = declared.size > 0 ? view.addresses.declaredOwner.bind(view.addresses) : view.addresses.owner.bind(view.addresses);
  for (const san of sans) {
    const owner = ownerOf(san.key, node);
    if (owner !== undefined) return ['san-of-other-node', `${san.text} belongs to ${owner}`];
  }
  const own = new Set([node]);
  if (declared.size > 0) {
    const outside = sans.find((san) => !declared.has(san.key) && !own.has(san.key));
    return outside ? ['san-not-declared', `${outside.text} is not declared for ${node}`] : undefined;
  }
  // Nothing declared: the Node's addresses are what the machine says about itself (a node writes
  // its own status), so only the shapes a kubelet asks for count: its name and names under it,
  // its InternalIP and ExternalIP addresses.
  const registered = view.nodes.get(node);
  if (!registered) return ['node-not-registered', `Node ${node} does not exist yet`];
  const name = canonicalDnsName(node);
  const foreign = request.dnsNames.find((dns) => canonicalDnsName(dns) !== name && !canonicalDnsName(dns).startsWith(`${name}.`));
  if (foreign !== undefined) return ['san-not-under-node-name', `${foreign} is not ${node} nor a name under it`];
  for (const address of registered.addresses) {
    const ip = canonicalIp(address.address);
    if (ip !== undefined ? IP_ADDRESS_TYPES.has(address.type) : DNS_ADDRESS_TYPES.has(address.type)) own.add(ip ?? canonicalDnsName(address.address));
  }
  const outside = sans.find((san) => !own.has(san.key));
  return outside ? ['san-not-node-address', `${outside.text} is not an address of Node ${node}`] : undefined;
}

const IP_ADDRESS_TYPES = new Set(['InternalIP', 'ExternalIP']);
const DNS_ADDRESS_TYPES = new Set(['Hostname', 'InternalDNS', 'ExternalDNS']);

function parse(csr: Csr, view: PolicyView): CertificateRequest | string {
  try {
    return (view.parse ?? ((c: Csr) => parseCertificateRequest(c.request)))(csr);
  } catch (error) {
    return (error as Error).message;
  }
}

function usagesFailure(csr: Csr, allowed: string[][]): [ReasonCode, string] | undefined {
  return allowed.some((set) => sameSet(csr.usages, set)) ? undefined : ['bad-usages', `usages ${csr.usages.join(', ')}`];
}

function organizationFailure(request: CertificateRequest): [ReasonCode, string] | undefined {
  return request.organizations.length === 1 && request.organizations[0] === 'system:nodes'
    ? undefined
    : ['wrong-organization', `O ${request.organizations.join(', ') || '(none)'}`];
}

/** The node a kubelet request is for: its one CN, `system:node:<name>`. */
export function nodeNameFromSubject(request: CertificateRequest): string | undefined {
  if (request.commonNames.length !== 1) return undefined;
  const cn = request.commonNames[0]!;
  return cn.startsWith(NODE_PREFIX) && cn.length > NODE_PREFIX.length ? cn.slice(NODE_PREFIX.length) : undefined;
}

function sameSet(actual: readonly string[], expected: readonly string[]): boolean {
  const set = new Set(actual);
  return set.size === actual.length && set.size === expected.length && expected.every((e) => set.has(e));
}
