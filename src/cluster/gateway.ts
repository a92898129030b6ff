import type { KubeConfig } from '@kubernetes/client-node';
import type { Log } from '../log.ts';
import { transportFor } from './connect.ts';
import { Calls, type CallLimits, type InformerSpec } from './calls.ts';
import { ClusterError, statusOf } from './errors.ts';
import type { Informer } from './informer.ts';
import { toClusterOperator, toClusterVersion, toCsr, toEvent, toMachineConfigPool, toNode, toPvc, toRegistryConfig } from './objects.ts';
import type { ClusterOperatorInfo, ClusterVersionInfo, Csr, EventInfo, MachineConfigPoolInfo, NodeInfo, PvcInfo, RegistryConfig } from './objects.ts';
import type { Transport } from './transport.ts';
import { CLUSTER_VERSION_NAME, objectPath, PATHS, REGISTRY_NAMESPACE } from './paths.ts';

export interface GatewayOptions {
  readonly log: Log;
  /** Aborts every pending call and retry (cancellation, or the run's deadline). */
  readonly signal?: AbortSignal;
  readonly requestTimeoutMs?: number;
  /** How long one call keeps retrying transient failures. */
  readonly retryForMs?: number;
  /** The current user's kubeconfig tokenFile, as an absolute path (see kubeconfig.ts). */
  readonly tokenFile?: string;
  /** Where HTTPS_PROXY / NO_PROXY are read (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
}

export interface PermissionCheck {
  readonly verb: string;
  readonly group: string;
  readonly resource: string;
  readonly subresource?: string;
  readonly name?: string;
  readonly namespace?: string;
}

export type ApprovalOutcome = 'approved' | 'already-approved' | 'denied' | 'gone';

const REGISTRY_PATH = PATHS.registryConfig;
const CSRS = PATHS.csrs;
const PVCS = PATHS.registryPvcs;
export { REGISTRY_NAMESPACE };
/** The reason of our Approved condition: tells our approvals from other approvers'. */
export const APPROVAL_REASON = 'OpenShiftFinishInstallApproved';

/** The one module that talks to Kubernetes: timeouts, retries, error wording, watch + re-list. */
export class ClusterGateway {
  readonly server: string;
  private readonly transport: Transport;
  private readonly options: Required<Omit<GatewayOptions, 'signal' | 'tokenFile' | 'env'>> & { signal: AbortSignal | undefined };
  private readonly calls: Calls;

  constructor(config: KubeConfig, options: GatewayOptions) {
    this.server = config.getCurrentCluster()?.server ?? '';
    this.options = { requestTimeoutMs: 20_000, retryForMs: 120_000, signal: undefined, ...stripUndefined(options) };
    this.transport = transportFor(config, {
      requestTimeoutMs: this.options.requestTimeoutMs,
      ...(options.tokenFile ? { tokenFile: options.tokenFile } : {}),
      ...(options.env ? { env: options.env } : {}),
    });
    this.calls = new Calls(this.transport, { server: this.server, log: this.options.log, retryForMs: this.options.retryForMs, signal: this.options.signal });
  }

  /** "through proxy http://***@host:port (HTTPS_PROXY)", or '' when the API server is reached directly. */
  describeProxy(): string {
    return this.transport.describeProxy();
  }

  csrInformer(pollMs: number): Informer<Csr> {
    return this.informer(pollMs, { kind: 'certificatesigningrequests', path: CSRS, convert: toCsr, key: (c) => c.name });
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

  /** ClusterVersion `version`; undefined when the kind or the object does not exist (not OpenShift 4). */
  async readClusterVersion(): Promise<ClusterVersionInfo | undefined> {
    try {
      return toClusterVersion(await this.call('read ClusterVersion version', () => this.transport.request('GET', objectPath(PATHS.clusterVersions, CLUSTER_VERSION_NAME))));
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  /**
   * PUT .../approval with the object as read plus an Approved condition. Only conditions are
   * taken by the approval subresource. 409 means the object changed: re-read and retry.
   */
  async approveCsr(csr: Csr, message: string): Promise<ApprovalOutcome> {
    let current: Csr | undefined = csr;
    for (let attempt = 0; current; attempt++) {
      // A CSR deleted and re-created under the same name is another request: never approve
      // what the policy did not see.
      if (current.uid !== csr.uid) return 'gone';
      // Our own earlier attempt may have succeeded after its response was lost.
      if (current.state === 'approved') return current.approvedBy === APPROVAL_REASON ? 'approved' : 'already-approved';
      if (current.state === 'denied' || current.state === 'failed') return 'denied';
      const body = {
        apiVersion: 'certificates.k8s.io/v1',
        kind: 'CertificateSigningRequest',
        metadata: { name: current.name, resourceVersion: current.resourceVersion, uid: current.uid },
        spec: { request: current.request, signerName: current.signerName, usages: [...current.usages] as never },
        status: {
          conditions: [{ type: 'Approved', status: 'True', reason: APPROVAL_REASON, message, lastUpdateTime: new Date() }],
        },
      };
      const name = current.name;
      try {
        await this.call(`approve CertificateSigningRequest ${csr.name}`, () => this.transport.request('PUT', `${objectPath(CSRS, name)}/approval`, { body }));
        return 'approved';
      } catch (error) {
        const status = statusOf(error);
        if (status === 404) return 'gone';
        if (status !== 409 || attempt >= 10) throw error;
        current = await this.readCsr(csr.name);
      }
    }
    return 'gone';
  }

  async readCsr(name: string): Promise<Csr | undefined> {
    try {
      return toCsr(await this.call(`read CertificateSigningRequest ${name}`, () => this.transport.request('GET', objectPath(CSRS, name))));
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  /**
   * 'kind-missing' when the API has no imageregistry Config kind (the ImageRegistry capability
   * is disabled), 'missing' when the kind exists but the operator has not created `cluster` yet.
   */
  async readRegistryConfig(limits: CallLimits = {}): Promise<RegistryConfig | 'kind-missing' | 'missing'> {
    try {
      return toRegistryConfig(
        await this.call('read imageregistry Config cluster', () => this.transport.request('GET', REGISTRY_PATH, { ...signalOf(limits) }), limits),
      );
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
      return /"cluster" not found/.test((error as Error).message) ? 'missing' : 'kind-missing';
    }
  }

  async patchRegistryConfig(patch: object): Promise<RegistryConfig> {
    return toRegistryConfig(
      await this.call('patch imageregistry Config cluster', () =>
        this.transport.request('PATCH', REGISTRY_PATH, { body: patch, contentType: 'application/merge-patch+json' }),
      ),
    );
  }

  async readPvc(name: string): Promise<PvcInfo | undefined> {
    try {
      return toPvc(
        await this.call(`read PersistentVolumeClaim ${REGISTRY_NAMESPACE}/${name}`, () =>
          this.transport.request('GET', objectPath(PVCS, name)),
        ),
      );
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  async createPvc(claim: { name: string; size: string; accessMode: string; storageClass: string }): Promise<PvcInfo> {
    try {
      return await this.createPvcOnce(claim);
    } catch (error) {
      // A retried create whose first attempt succeeded: the claim is there, as asked.
      const existing = statusOf(error) === 409 ? await this.readPvc(claim.name) : undefined;
      if (existing) return existing;
      throw error;
    }
  }

  private async createPvcOnce(claim: { name: string; size: string; accessMode: string; storageClass: string }): Promise<PvcInfo> {
    return toPvc(
      await this.call(`create PersistentVolumeClaim ${REGISTRY_NAMESPACE}/${claim.name}`, () =>
        this.transport.request('POST', PVCS, {
          body: {
            apiVersion: 'v1',
            kind: 'PersistentVolumeClaim',
            metadata: { name: claim.name, namespace: REGISTRY_NAMESPACE, labels: { 'app.kubernetes.io/managed-by': 'openshift-finish-install' } },
            spec: {
              accessModes: [claim.accessMode],
              resources: { requests: { storage: claim.size } },
              ...(claim.storageClass ? { storageClassName: claim.storageClass } : {}),
            },
          },
        }),
      ),
    );
  }

  /** Events about one Node (they are recorded in namespace default). */
  async nodeEvents(node: string, limits: CallLimits = {}): Promise<EventInfo[]> {
    const fieldSelector = `involvedObject.kind=Node,involvedObject.name=${node}`;
    const list = (await this.call(
      `list events of Node ${node}`,
      () => this.transport.request('GET', `${PATHS.events('default')}?fieldSelector=${encodeURIComponent(fieldSelector)}`, { ...signalOf(limits) }),
      limits,
    )) as ListResult;
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
        const review = (await this.call(`check permission to ${check.verb} ${check.resource}`, () =>
          this.transport.request('POST', PATHS.selfSubjectAccessReviews, { body }),
        )) as { status?: { allowed?: boolean } };
        return review.status?.allowed ? undefined : check;
      }),
    );
    return results.filter((c): c is PermissionCheck => c !== undefined);
  }

  call<T>(action: string, fn: () => Promise<T>, limits: CallLimits = {}): Promise<T> {
    return this.calls.call(action, fn, limits);
  }

  private informer<T>(pollMs: number, spec: InformerSpec<T>): Informer<T> {
    return this.calls.informer(pollMs, spec);
  }
}

interface ListResult {
  items?: unknown[];
  metadata?: { resourceVersion?: string };
}

function signalOf(limits: CallLimits): { signal?: AbortSignal } {
  return limits.signal ? { signal: limits.signal } : {};
}

function stripUndefined<T extends object>(options: T): T {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as T;
}

export { ClusterError };
export type { CallLimits };
