// Forged CSRs, each well-formed apart from the one thing an approver must refuse.
// Every function files the request and returns the CSR's name.
/* eslint-disable @typescript-eslint/no-explicit-any */
import { buildCsr } from './csr-builder.ts';
import type { CsrSpec } from './csr-builder.ts';
import { PATHS } from '../../src/cluster/paths.ts';
import { BOOTSTRAPPER, SIGNER, USAGES, call, csrObject, isStatus, nodeIdentity } from './common.ts';
import type { Identity, SimContext } from './common.ts';

/** Some service account that can create CSRs (a binding the adversary makes itself). */
export const ATTACKER: Identity = {
  user: 'system:serviceaccount:default:attacker',
  groups: ['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated'],
};

const NODE_ORG = ['system:nodes'];
const cn = (node: string): string => `system:node:${node}`;

export interface Forgery {
  identity: Identity;
  signerName: string;
  usages: string[];
  spec: CsrSpec;
  /** metadata.name (default: generated, `csr-...`); the API refuses only '/' and '%' in it. */
  name?: string;
  /** spec.expirationSeconds (a kubelet sets none; the API server takes 600 or more). */
  expirationSeconds?: number;
}

export class Adversary {
  readonly #ctx: SimContext;
  #rbac: Promise<void> | undefined;
  /** names of every CSR filed, in order */
  readonly filed: string[] = [];
  /** The uid of the request filed last under each name (a name is free again once the CSR is deleted). */
  readonly #uids = new Map<string, string>();

  constructor(ctx: SimContext) {
    this.#ctx = ctx;
  }

  /** Files any request; the named forgeries below are built on it. */
  async file(label: string, f: Forgery): Promise<string> {
    if (f.identity.user === ATTACKER.user) await this.#attackerMayCreateCsrs();
    const built: any = this.#ctx.meter.track(() => csrObject(buildCsr(f.spec).pem, f.signerName, f.usages));
    const lifetime = f.expirationSeconds === undefined ? built : { ...built, spec: { ...built.spec, expirationSeconds: f.expirationSeconds } };
    const body = f.name === undefined ? lifetime : { ...lifetime, metadata: { name: f.name } };
    const csr = await call<any>(this.#ctx, 'POST', PATHS.csrs, { body, impersonate: f.identity });
    const name: string = csr.metadata.name;
    this.filed.push(name);
    this.#uids.set(name, csr.metadata.uid);
    this.#ctx.log.emit('forged-csr', label, { csr: name });
    return name;
  }

  /** The uid of the request last filed as `name` (what tells it from a later one of the same name). */
  uidOf(name: string): string | undefined {
    return this.#uids.get(name);
  }

  // ---- phase 1: kubelet client certificates -------------------------------------------------

  /** A node client certificate asked for by someone other than the node-bootstrapper. */
  clientFromWrongRequester(node: string, identity: Identity = ATTACKER): Promise<string> {
    return this.file('clientFromWrongRequester', client(identity, { commonName: cn(node), organizations: NODE_ORG }));
  }

  /** Takes over a Node that is already registered. */
  clientForExistingNode(node: string): Promise<string> {
    return this.file('clientForExistingNode', client(BOOTSTRAPPER, { commonName: cn(node), organizations: NODE_ORG }));
  }

  /** A machine that reads the bootstrap credential but is not in the inventory. */
  clientForUnlistedMachine(node = 'rogue-0'): Promise<string> {
    return this.file('clientForUnlistedMachine', client(BOOTSTRAPPER, { commonName: cn(node), organizations: NODE_ORG }));
  }

  clientWrongOrg(node: string, organization = 'system:masters'): Promise<string> {
    return this.file('clientWrongOrg', client(BOOTSTRAPPER, { commonName: cn(node), organizations: [organization] }));
  }

  /** oneRdn: both organizations in one multi-valued RDN, as Go would write them. */
  clientExtraOrg(node: string, extra = 'system:masters', oneRdn = false): Promise<string> {
    return this.file('clientExtraOrg', client(BOOTSTRAPPER, { commonName: cn(node), organizations: [...NODE_ORG, extra], organizationsInOneRdn: oneRdn }));
  }

  clientMissingOrg(node: string): Promise<string> {
    return this.file('clientMissingOrg', client(BOOTSTRAPPER, { commonName: cn(node) }));
  }

  clientWithSan(node: string, dnsName = node): Promise<string> {
    return this.file('clientWithSan', client(BOOTSTRAPPER, { commonName: cn(node), organizations: NODE_ORG, dnsNames: [dnsName] }));
  }

  /** Adds 'cert sign' to the legacy client usages. */
  clientExtraUsage(node: string): Promise<string> {
    return this.file('clientExtraUsage', {
      ...client(BOOTSTRAPPER, { commonName: cn(node), organizations: NODE_ORG }),
      usages: [...USAGES.client, 'cert sign'],
    });
  }

  /** Not a kubelet signer at all: a client certificate for a cluster-admin group. */
  clusterAdminClientCert(): Promise<string> {
    return this.file('clusterAdminClientCert', {
      identity: ATTACKER,
      signerName: SIGNER.apiserverClient,
      usages: USAGES.client,
      spec: { commonName: 'attacker', organizations: ['system:cluster-admins'] },
    });
  }

  // ---- phase 2: kubelet serving certificates ------------------------------------------------

  /** Filed by node `requester` for the identity of node `impersonated`. */
  servingCnMismatch(requester: string, impersonated: string, addresses: string[] = []): Promise<string> {
    return this.file('servingCnMismatch', serving(requester, { commonName: cn(impersonated), organizations: NODE_ORG, dnsNames: [impersonated], ipAddresses: addresses }));
  }

  /**
   * The same family the API server accepts since 1.31: the CN Go reads (the last) is the
   * requester's own, an earlier CN names node `impersonated`.
   */
  servingTwoCommonNames(requester: string, impersonated: string, addresses: string[] = []): Promise<string> {
    return this.file('servingTwoCommonNames', serving(requester, {
      earlierCommonNames: [cn(impersonated)], commonName: cn(requester), organizations: NODE_ORG, dnsNames: [requester], ipAddresses: addresses,
    }));
  }

  /** The node's own name plus an address that belongs to another node. */
  servingWithOtherNodesIp(node: string, otherIp: string, ownAddresses: string[] = []): Promise<string> {
    return this.file('servingWithOtherNodesIp', serving(node, { commonName: cn(node), organizations: NODE_ORG, dnsNames: [node], ipAddresses: [...ownAddresses, otherIp] }));
  }

  /** An address no one declared for this machine (and no Node holds). */
  servingOutsideDeclared(node: string, address = '10.99.99.99', ownAddresses: string[] = []): Promise<string> {
    return this.file('servingOutsideDeclared', serving(node, { commonName: cn(node), organizations: NODE_ORG, dnsNames: [node], ipAddresses: [...ownAddresses, address] }));
  }

  servingWithEmailSan(node: string, email = `root@${node}`): Promise<string> {
    return this.file('servingWithEmailSan', serving(node, { commonName: cn(node), organizations: NODE_ORG, dnsNames: [node], emailAddresses: [email] }));
  }

  servingWithUriSan(node: string, uri = `spiffe://cluster.local/ns/kube-system/sa/${node}`): Promise<string> {
    return this.file('servingWithUriSan', serving(node, { commonName: cn(node), organizations: NODE_ORG, dnsNames: [node], uris: [uri] }));
  }

  // Without the Node authorizer nothing lets an arbitrary account create CSRs; a real attacker
  // would use any account that can.
  #attackerMayCreateCsrs(): Promise<void> {
    this.#rbac ??= call(this.#ctx, 'POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
      body: {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: 'sim-attacker-creates-csrs' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:node-bootstrapper' },
        subjects: [{ kind: 'ServiceAccount', name: 'attacker', namespace: 'default' }],
      },
    }).then(
      () => undefined,
      (e) => {
        if (!isStatus(e, 409)) {
          this.#rbac = undefined;
          throw e;
        }
      },
    );
    return this.#rbac;
  }
}

function client(identity: Identity, spec: CsrSpec): Forgery {
  return { identity, signerName: SIGNER.kubeletClient, usages: USAGES.client, spec };
}

function serving(requester: string, spec: CsrSpec): Forgery {
  return { identity: nodeIdentity(requester), signerName: SIGNER.kubeletServing, usages: USAGES.serving, spec };
}
