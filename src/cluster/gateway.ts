import type { KubeConfig } from '@kubernetes/client-node';
import type { PermissionCheck } from './permission-check.ts';
import type { Log } from '../log.ts';
import { ApiClient, type InformerSpec, type ListResult } from './client.ts';
import { transportFor } from './connect.ts';
import { approveCsr, readCsr, type ApprovalOutcome } from './csr-calls.ts';
import { ClusterError, statusOf } from './errors.ts';
import type { Impersonation } from './kubeconfig-files.ts';
import type { Informer } from './informer.ts';
import { readClusterNetworks, type ClusterNetworkFacts } from './network-calls.ts';
import { toClusterOperator, toClusterVersion, toCsr, toEvent, toMachineConfigPool, toNode } from './objects.ts';
import type { ClusterOperatorInfo, ClusterVersionInfo, Csr, EventInfo, MachineConfigPoolInfo, NodeInfo, PvcInfo, RegistryConfig } from './objects.ts';
import { CLUSTER_VERSION_NAME, objectPath, PATHS, REGISTRY_NAMESPACE } from './paths.ts';
import { createPvc, patchRegistryConfig, readPvc, readRegistryConfig, type ClaimRequest } from './registry-calls.ts';
import { maskProxyUrl } from './proxy.ts';
import type { CallLimits } from './retry.ts';

export interface GatewayOptions {
  readonly log: Log;
  /** Aborts every pending call and retry (cancellation, or the run's deadline). */
  readonly signal?: AbortSignal;
  readonly requestTimeoutMs?: number;
  /** How long one call keeps retrying transient failures. */
  readonly retryForMs?: number;
  /** The current user's kubeconfig tokenFile, as an absolute path (see kubeconfig.ts). */
  readonly tokenFile?: string;
  /** The current user's impersonation (see kubeconfig.ts); without it, the kubeconfig's `as` alone. */
  readonly impersonate?: Impersonation;
  /** Where HTTPS_PROXY / NO_PROXY are read (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
}

export type { PermissionCheck };

/**
 * The one module the rest of the action talks to Kubernetes through: the informers and the
 * domain calls, over one ApiClient (transport.ts sends, retry.ts retries, errors.ts words the
 * failure). The CSR and registry calls live in csr-calls.ts and registry-calls.ts.
 */
export class ClusterGateway {
  /** The API server's URL as logs and messages may show it: a user name and password in it shown as ***. */
  readonly server: string;
  private readonly client: ApiClient;

  constructor(config: KubeConfig, options: GatewayOptions) {
    this.server = maskProxyUrl(config.getCurrentCluster()?.server ?? '');
    const transport = transportFor(config, {
      requestTimeoutMs: options.requestTimeoutMs ?? 20_000,
      ...(options.tokenFile ? { tokenFile: options.tokenFile } : {}),
      ...(options.impersonate ? { impersonate: options.impersonate } : {}),
      ...(options.env ? { env: options.env } : {}),
    });
    this.client = new ApiClient(transport, { server: this.server, log: options.log, retryForMs: options.retryForMs ?? 120_000, signal: options.signal });
  }

  /** "through proxy http://***@host:port (HTTPS_PROXY)", or '' when the API server is reached directly. */
  describeProxy(): string {
    return this.client.describeProxy();
  }

  csrInformer(pollMs: number): Informer<Csr> {
    return this.informer(pollMs, { kind: 'certificatesigningrequests', path: PATHS.csrs, convert: toCsr, key: (c) => c.name });
  }

  nodeInformer(pollMs: number): Informer<NodeInfo> {
    return this.informer(pollMs, { kind: 'nodes', path: PATHS.nodes, convert: toNode, key: (n) => n.name });
  }

  clusterOperatorInformer(pollMs: number): Informer<ClusterOperatorInfo> {
    return this.informer(pollMs, { kind: 'clusteroperators', path: PATHS.clusterOperators, convert: toClusterOperator, key: (o) => o.name });
  }

  /** ClusterVersion `version` only (list and watch by field selector, which RBAC allows for get/list/watch). */
  clusterVersionInformer(pollMs: number): Informer<ClusterVersionInfo> {
    const fieldSelector = `metadata.name=${CLUSTER_VERSION_NAME}`;
    return this.informer(pollMs, { kind: 'clusterversions', path: PATHS.clusterVersions, query: { fieldSelector }, convert: toClusterVersion, key: () => CLUSTER_VERSION_NAME });
  }

  machineConfigPoolInformer(pollMs: number): Informer<MachineConfigPoolInfo> {
    return this.informer(pollMs, { kind: 'machineconfigpools', path: PATHS.machineConfigPools, convert: toMachineConfigPool, key: (p) => p.name });
  }

  /**
   * Rejects with an AccessRefused when an informer of this gateway is refused for good (a
   * revoked role or credential: its 401/403s outlasted the grace after a restart); never resolves.
   */
  informerRefused(signal?: AbortSignal): Promise<never> {
    return this.client.refused(signal);
  }

  approveCsr(csr: Csr, message: string): Promise<ApprovalOutcome> {
    return approveCsr(this.client, csr, message);
  }

  readCsr(name: string): Promise<Csr | undefined> {
    return readCsr(this.client, name);
  }

  readRegistryConfig(limits: CallLimits = {}): Promise<RegistryConfig | 'kind-missing' | 'missing'> {
    return readRegistryConfig(this.client, limits);
  }

  patchRegistryConfig(patch: object, limits: CallLimits = {}): Promise<RegistryConfig> {
    return patchRegistryConfig(this.client, patch, limits);
  }

  readPvc(name: string, limits: CallLimits = {}): Promise<PvcInfo | undefined> {
    return readPvc(this.client, name, limits);
  }

  createPvc(claim: ClaimRequest, limits: CallLimits = {}): Promise<PvcInfo> {
    return createPvc(this.client, claim, limits);
  }

  /** ClusterVersion `version`; undefined when the kind or the object does not exist (not OpenShift 4). */
  async readClusterVersion(): Promise<ClusterVersionInfo | undefined> {
    try {
      return toClusterVersion(await this.client.send('read ClusterVersion version', 'GET', objectPath(PATHS.clusterVersions, CLUSTER_VERSION_NAME)));
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  /** The cluster's own networks (network-calls.ts): the Network and Infrastructure objects, and the install-config's machine networks when asked. */
  readClusterNetworks(options: { readonly installConfig: boolean }): Promise<ClusterNetworkFacts> {
    return readClusterNetworks(this.client, options);
  }

  /** Events about one Node (they are recorded in namespace default). */
  async nodeEvents(node: string, limits: CallLimits = {}): Promise<EventInfo[]> {
    const fieldSelector = `involvedObject.kind=Node,involvedObject.name=${node}`;
    const path = `${PATHS.events('default')}?fieldSelector=${encodeURIComponent(fieldSelector)}`;
    const list = (await this.client.send(`list events of Node ${node}`, 'GET', path, {}, limits)) as ListResult;
    return (list.items ?? []).map(toEvent);
  }

  /** The checks this identity fails, by SelfSubjectAccessReview. */
  async missingPermissions(checks: readonly PermissionCheck[]): Promise<PermissionCheck[]> {
    const results = await Promise.all(
      checks.map(async (check) => {
        const body = {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectAccessReview',
          spec: {
            resourceAttributes: {
              verb: check.verb,
              group: check.group,
              resource: check.resource,
              ...(check.subresource ? { subresource: check.subresource } : {}),
              ...(check.name ? { name: check.name } : {}),
              ...(check.namespace ? { namespace: check.namespace } : {}),
            },
          },
        };
        const review = (await this.client.send(`check permission to ${check.verb} ${check.resource}`, 'POST', PATHS.selfSubjectAccessReviews, { body })) as {
          status?: { allowed?: boolean };
        };
        return review.status?.allowed ? undefined : check;
      }),
    );
    return results.filter((c): c is PermissionCheck => c !== undefined);
  }

  private informer<T>(pollMs: number, spec: InformerSpec<T>): Informer<T> {
    return this.client.informer(pollMs, spec);
  }
}

export { APPROVAL_REASON, type ApprovalOutcome } from './csr-calls.ts';
export { REGISTRY_NAMESPACE };
export { ClusterError };
export { AccessRefused } from './errors.ts';
export type { CallLimits, ClusterNetworkFacts };
