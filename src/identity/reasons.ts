// The policy's vocabulary: the kubelet signers, the bootstrap identity, the client cap and the
// reason codes a refusal carries (outputs, logs, metrics, docs/troubleshooting.md).
import type { Csr } from '../cluster/objects.ts';

export const CLIENT_SIGNER = 'kubernetes.io/kube-apiserver-client-kubelet';
export const SERVING_SIGNER = 'kubernetes.io/kubelet-serving';
/** A kubelet's request (client or serving): the only CSRs the approver decides on. */
export const isKubelet = (csr: Csr): boolean => csr.signerName === CLIENT_SIGNER || csr.signerName === SERVING_SIGNER;
export const BOOTSTRAPPER = 'system:serviceaccount:openshift-machine-config-operator:node-bootstrapper';

/**
 * A node can ask again every 15 minutes when nobody approves (kubelet certificate manager), so
 * an hour's backlog is about four; more than this for one node in one run looks like a flood.
 */
export const MAX_CLIENT_APPROVALS_PER_NODE = 6;

/** Stable codes for why a kubelet CSR stays Pending (outputs, logs, README troubleshooting). */
export const REASONS = {
  'unparsable-request': 'spec.request is not a valid PKCS#10 certificate request',
  'bad-signature': 'the request is not signed by the key it carries',
  'wrong-requester': `a client request must come from ${BOOTSTRAPPER}`,
  'wrong-groups': 'the requester groups are not those of the expected identity',
  'bad-usages': 'the usages are not one of the kubelet sets for this signer',
  'wrong-organization': 'the subject organization must be exactly system:nodes',
  'unexpected-subject-attribute': 'the subject holds something besides one CN and one O (a kubelet writes nothing else)',
  'bad-common-name': 'the subject common name must be system:node:<node name>',
  'node-not-listed': "the node is not in the 'nodes' or 'inventory' input",
  'node-already-exists': 'a Node of that name exists; a re-provisioned machine needs its old Node deleted first',
  'too-many-client-requests': `more than ${MAX_CLIENT_APPROVALS_PER_NODE} client requests for one node in this run`,
  'client-has-sans': 'a kubelet client request carries no subject alternative names',
  'cn-username-mismatch': 'the common name differs from the requesting node identity',
  'no-sans': 'a serving request must name at least one DNS name or IP address',
  'forbidden-san-type': 'e-mail, URI and other SAN kinds are not allowed in a serving certificate',
  'san-wildcard': 'a DNS name in a serving request contains a wildcard (*); a kubelet never asks for one',
  'san-invalid-dns-name': 'a DNS name in a serving request is not an RFC 1123 host name (letters, digits, hyphens and dots, no trailing dot)',
  'san-loopback': 'an IP address in a serving request is a loopback address (127.0.0.0/8, ::1)',
  'san-unspecified-address': 'an IP address in a serving request is unspecified (0.0.0.0/8, ::)',
  'san-link-local': 'an IP address in a serving request is link-local (169.254.0.0/16, fe80::/10)',
  'san-multicast': 'an IP address in a serving request is multicast (224.0.0.0/4, ff00::/8)',
  'san-broadcast': 'an IP address in a serving request is the broadcast address 255.255.255.255',
  'san-ipv4-in-ipv6': 'an IP address in a serving request is an IPv4-mapped or IPv4-compatible IPv6 address (::ffff:a.b.c.d, ::a.b.c.d)',
  'san-not-declared': "an address is not among those declared for this node in the 'nodes' or 'inventory' input",
  'san-not-under-node-name': "a DNS name is neither the node name nor under '<node name>.' (no addresses declared for the node)",
  'san-not-node-address': "an address is not among the Node's own status.addresses (an IP must be an InternalIP or ExternalIP)",
  'san-of-other-node': "an address is another listed machine's or another Node's name, or declared for another listed machine (or, for a node without declared addresses, reported by another Node)",
  'node-not-registered': 'the Node is not registered yet and no addresses were declared for it',
  'san-cluster-vip': 'an IP address of a machine listed without addresses is an API or ingress VIP of the cluster (Infrastructure cluster)',
  'san-service-network': "an IP address of a machine listed without addresses lies in the cluster's service network (Network cluster)",
  'san-cluster-network': "an IP address of a machine listed without addresses lies in the cluster's pod network (Network cluster clusterNetwork)",
  'san-outside-machine-network': "an IP address of a machine listed without addresses lies in none of the cluster's machine networks (input machine-networks, else Infrastructure and install-config)",
  'requested-duration-too-long': 'spec.expirationSeconds asks for a longer certificate than the max-requested-duration input allows',
} as const;

export type ReasonCode = keyof typeof REASONS;

/**
 * The warning for a node name with more than one client certificate issued on this run's
 * approvals (log, job summary, CLI report): what a copied bootstrap credential looks like.
 */
export function clientCertificatesWarning(node: string, count: number): string {
  return `${count} client certificates were issued for node ${node} in this run: a kubelet that asked again after a timeout does this, and so does a second machine using the bootstrap credential under this name; check that only one machine is ${node}`;
}
