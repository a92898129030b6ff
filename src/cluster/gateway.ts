import {
  AuthorizationV1Api,
  CertificatesV1Api,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  Watch,
  type KubeConfig,
} from '@kubernetes/client-node';
import pRetry from 'p-retry';
import type { Log } from '../log.ts';
import { openDirectTransport, sendJson, type DirectTransport } from './direct-transport.ts';
import { ClusterError, retryAfterMs, statusOf, toClusterError } from './errors.ts';
import { Informer, type InformerSource } from './informer.ts';
import { CONNECTED, isRetryable, nextConnectionState, RETRY, retryBudgetMs, type ConnectionState } from './retry-policy.ts';
import {
  toClusterOperator,
  toClusterVersion,
  toMachineConfigPool,
  toCsr,
  toEvent,
  toNode,
  toPvc,
  toRegistryConfig,
  type ClusterOperatorInfo,
  type ClusterVersionInfo,
  type MachineConfigPoolInfo,
  type Csr,
  type EventInfo,
  type NodeInfo,
  type PvcInfo,
  type RegistryConfig,
} from './objects.ts';

export interface GatewayOptions {
  readonly log: Log;
  /** Aborts every pending call and retry (cancellation, or the run's deadline). */
  readonly signal?: AbortSignal;
  readonly requestTimeoutMs?: number;
  /** How long one call keeps retrying transient failures. */
  readonly retryForMs?: number;
}

/** Limits a caller puts on one call, on top of the gateway's own. */
export interface CallLimits {
  /** No attempt or retry after this time. */
  readonly deadline?: number;
  /** Aborts the call (and the request in flight). */
  readonly signal?: AbortSignal;
  /** A 401/403 is final even right after a lost connection (a read only diagnostics need). */
  readonly forbiddenIsFinal?: boolean;
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

const REGISTRY = { group: 'imageregistry.operator.openshift.io', version: 'v1', plural: 'configs', name: 'cluster' } as const;
const OPERATORS = { group: 'config.openshift.io', version: 'v1', plural: 'clusteroperators' } as const;
const VERSIONS = { group: 'config.openshift.io', version: 'v1', plural: 'clusterversions', name: 'version' } as const;
const POOLS = { group: 'machineconfiguration.openshift.io', version: 'v1', plural: 'machineconfigpools' } as const;
export const REGISTRY_NAMESPACE = 'openshift-image-registry';
/** The reason of our Approved condition: tells our approvals from other approvers'. */
export const APPROVAL_REASON = 'OpenShiftFinishInstallApproved';

/** The one module that talks to Kubernetes: timeouts, retries, error wording, watch + re-list. */
export class ClusterGateway {
  readonly server: string;
  private readonly certificates: CertificatesV1Api;
  private readonly core: CoreV1Api;
  private readonly custom: CustomObjectsApi;
  private readonly authorization: AuthorizationV1Api;
  private readonly watcher: Watch;
  private readonly options: Required<Omit<GatewayOptions, 'signal'>> & { signal: AbortSignal | undefined };
  /** What the last failures said about the connection (see retry-policy.ts). */
  private connection: ConnectionState = CONNECTED;
  /** The connection pool shared by every call (see callOptions). */
  private dispatcher: unknown;
  /** No exec plugin or auth provider, so the TLS options of every request are the same. */
  private readonly staticCredentials: boolean;
  /** Until one call has succeeded, an unreachable server is more likely a wrong address than a restart. */
  private everConnected = false;
  private readonly config: KubeConfig;
  /** See directTransport(); resolves to undefined when the kubeconfig needs client-node's own transport. */
  private direct: Promise<DirectTransport | undefined> | undefined;

  constructor(config: KubeConfig, options: GatewayOptions) {
    this.server = config.getCurrentCluster()?.server ?? '';
    this.config = config;
    const user = config.getCurrentUser();
    this.staticCredentials = !user?.exec && !user?.authProvider;
    this.certificates = config.makeApiClient(CertificatesV1Api);
    this.core = config.makeApiClient(CoreV1Api);
    this.custom = config.makeApiClient(CustomObjectsApi);
    this.authorization = config.makeApiClient(AuthorizationV1Api);
    this.watcher = new Watch(config);
    this.options = { requestTimeoutMs: 20_000, retryForMs: 120_000, signal: undefined, ...options };
  }

  csrInformer(pollMs: number): Informer<Csr> {
    return this.informer(pollMs, {
      kind: 'certificatesigningrequests',
      path: '/apis/certificates.k8s.io/v1/certificatesigningrequests',
      list: () => this.certificates.listCertificateSigningRequest({}, this.callOptions()),
      convert: toCsr,
      key: (c) => c.name,
    });
  }

  nodeInformer(pollMs: number): Informer<NodeInfo> {
    return this.informer(pollMs, {
      kind: 'nodes',
      path: '/api/v1/nodes',
      list: () => this.core.listNode({}, this.callOptions()),
      convert: toNode,
      key: (n) => n.name,
    });
  }

  clusterOperatorInformer(pollMs: number): Informer<ClusterOperatorInfo> {
    return this.informer(pollMs, {
      kind: 'clusteroperators',
      path: `/apis/${OPERATORS.group}/${OPERATORS.version}/${OPERATORS.plural}`,
      list: () => this.custom.listClusterCustomObject({ ...OPERATORS }, this.callOptions()) as Promise<ListResult>,
      convert: toClusterOperator,
      key: (o) => o.name,
    });
  }

  /** ClusterVersion `version` only (list and watch by field selector, which RBAC allows for get/list/watch). */
  clusterVersionInformer(pollMs: number): Informer<ClusterVersionInfo> {
    const fieldSelector = `metadata.name=${VERSIONS.name}`;
    return this.informer(pollMs, {
      kind: 'clusterversions',
      path: `/apis/${VERSIONS.group}/${VERSIONS.version}/${VERSIONS.plural}`,
      query: { fieldSelector },
      list: () => this.custom.listClusterCustomObject({ group: VERSIONS.group, version: VERSIONS.version, plural: VERSIONS.plural, fieldSelector }, this.callOptions()) as Promise<ListResult>,
      convert: toClusterVersion,
      key: () => VERSIONS.name,
    });
  }

  machineConfigPoolInformer(pollMs: number): Informer<MachineConfigPoolInfo> {
    return this.informer(pollMs, {
      kind: 'machineconfigpools',
      path: `/apis/${POOLS.group}/${POOLS.version}/${POOLS.plural}`,
      list: () => this.custom.listClusterCustomObject({ ...POOLS }, this.callOptions()) as Promise<ListResult>,
      convert: toMachineConfigPool,
      key: (p) => p.name,
    });
  }

  /** ClusterVersion `version`; undefined when the kind or the object does not exist (not OpenShift 4). */
  async readClusterVersion(): Promise<ClusterVersionInfo | undefined> {
    try {
      return toClusterVersion(await this.call('read ClusterVersion version', () => this.custom.getClusterCustomObject({ ...VERSIONS }, this.callOptions())));
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
        await this.call(`approve CertificateSigningRequest ${csr.name}`, async () => {
          const direct = await this.directTransport();
          if (direct) return void (await this.directJson(direct, 'PUT', `/apis/certificates.k8s.io/v1/certificatesigningrequests/${encodeURIComponent(name)}/approval`, body));
          return this.certificates.replaceCertificateSigningRequestApproval({ name, body }, this.callOptions());
        });
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

  /** See direct-transport.ts; undefined when the kubeconfig needs client-node's own transport. */
  private directTransport(): Promise<DirectTransport | undefined> {
    this.direct ??= openDirectTransport(this.config, this.staticCredentials);
    return this.direct;
  }

  private directJson(direct: DirectTransport, method: string, path: string, body: object): Promise<unknown> {
    return sendJson(direct, method, path, body, this.options.requestTimeoutMs);
  }

  async readCsr(name: string): Promise<Csr | undefined> {
    try {
      return toCsr(await this.call(`read CertificateSigningRequest ${name}`, () => this.certificates.readCertificateSigningRequest({ name }, this.callOptions())));
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
        await this.call('read imageregistry Config cluster', () => this.custom.getClusterCustomObject({ ...REGISTRY }, this.callOptions(undefined, limits.signal)), limits),
      );
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
      return /"cluster" not found/.test((error as Error).message) ? 'missing' : 'kind-missing';
    }
  }

  async patchRegistryConfig(patch: object): Promise<RegistryConfig> {
    return toRegistryConfig(
      await this.call('patch imageregistry Config cluster', () =>
        this.custom.patchClusterCustomObject({ ...REGISTRY, body: patch }, this.callOptions(PatchStrategy.MergePatch)),
      ),
    );
  }

  async readPvc(name: string): Promise<PvcInfo | undefined> {
    try {
      return toPvc(
        await this.call(`read PersistentVolumeClaim ${REGISTRY_NAMESPACE}/${name}`, () =>
          this.core.readNamespacedPersistentVolumeClaim({ name, namespace: REGISTRY_NAMESPACE }, this.callOptions()),
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
        this.core.createNamespacedPersistentVolumeClaim(
          {
            namespace: REGISTRY_NAMESPACE,
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
          },
          this.callOptions(),
        ),
      ),
    );
  }

  /** Events about one Node (they are recorded in namespace default). */
  async nodeEvents(node: string, limits: CallLimits = {}): Promise<EventInfo[]> {
    const list = await this.call(
      `list events of Node ${node}`,
      () => this.core.listNamespacedEvent({ namespace: 'default', fieldSelector: `involvedObject.kind=Node,involvedObject.name=${node}` }, this.callOptions(undefined, limits.signal)),
      limits,
    );
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
        // Over the direct transport when there is one (see directTransport): the preflight then
        // also opens the connections the first approvals of a burst reuse.
        const review = await this.call(`check permission to ${check.verb} ${check.resource}`, async () => {
          const direct = await this.directTransport();
          if (direct) return (await this.directJson(direct, 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', body)) as { status?: { allowed?: boolean } };
          return this.authorization.createSelfSubjectAccessReview({ body }, this.callOptions());
        });
        return review.status?.allowed ? undefined : check;
      }),
    );
    return results.filter((c): c is PermissionCheck => c !== undefined);
  }

  /**
   * Runs one API call with a per-request timeout, retrying what retry-policy.ts calls retryable
   * (no answer, our timeouts, 429 with Retry-After, 5xx, 401/403 just after a lost connection)
   * with jittered backoff for up to retryForMs, or until the caller's deadline.
   */
  async call<T>(action: string, fn: () => Promise<T>, limits: CallLimits = {}): Promise<T> {
    const signals = [this.options.signal, limits.signal].filter((s): s is AbortSignal => s !== undefined);
    const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
    try {
      return await pRetry(
        async () => {
          try {
            const result = await fn();
            this.everConnected = true;
            this.connection = nextConnectionState(this.connection, undefined, Date.now());
            return result;
          } catch (error) {
            if (statusOf(error) !== undefined) this.everConnected = true;
            this.connection = nextConnectionState(this.connection, error, Date.now());
            throw error instanceof Error ? error : new Error(String(error));
          }
        },
        {
          retries: 1000,
          minTimeout: RETRY.minTimeoutMs,
          maxTimeout: RETRY.maxTimeoutMs,
          factor: RETRY.factor,
          randomize: true,
          maxRetryTime: retryBudgetMs({ retryForMs: this.options.retryForMs, everConnected: this.everConnected, now: Date.now(), deadline: limits.deadline }),
          signal,
          shouldRetry: async ({ error, retryDelay }) => {
            if (!isRetryable(error, this.connection, Date.now(), limits)) return false;
            this.options.log.debug(`${toClusterError(action, error).message}; retrying`);
            const wait = retryAfterMs(error);
            if (wait !== undefined && wait > retryDelay) await sleep(wait - retryDelay, signal);
            return true;
          },
        },
      );
    } catch (error) {
      const failure = toClusterError(action, error);
      if (!this.everConnected && failure.status === undefined) {
        throw new ClusterError(action, undefined, `cannot reach the API server at ${this.server} (${failure.message.replace(`${action} failed: `, '')}); check the kubeconfig's server address and the network`);
      }
      throw failure;
    }
  }

  /**
   * Per-call middleware: a request timeout and, for patches, the content type. The ObjectParam
   * API runs middleware as client-node's Observable stub, which only needs toPromise().
   */
  private callOptions(contentType?: string, signal?: AbortSignal) {
    const timeoutMs = this.options.requestTimeoutMs;
    const resolved = <T>(value: T) => ({ toPromise: () => Promise.resolve(value) });
    return {
      middleware: [
        {
          pre: (context: RequestContextLike) => {
            // client-node builds a new undici Agent for every request (KubeConfig
            // applySecurityAuthentication), so no connection is ever reused and each call pays a
            // TCP and TLS handshake on both ends. Every call has the same cluster and user: keep
            // the first Agent and send every later request through it (keep-alive connections).
            const dispatcher = context.getDispatcher?.();
            if (dispatcher !== undefined && this.staticCredentials) {
              this.dispatcher ??= dispatcher;
              context.setDispatcher?.(this.dispatcher);
            }
            const timeout = AbortSignal.timeout(timeoutMs);
            context.setSignal(signal ? AbortSignal.any([timeout, signal]) : timeout);
            if (contentType) context.setHeaderParam('Content-Type', contentType);
            return resolved(context);
          },
          post: <R>(response: R) => resolved(response),
        },
      ],
      middlewareMergeStrategy: 'append' as const,
    } as never;
  }

  private informer<T>(
    pollMs: number,
    spec: { kind: string; path: string; query?: Record<string, string>; list: () => Promise<ListResult>; convert: (o: unknown) => T; key: (t: T) => string },
  ): Informer<T> {
    const source: InformerSource<T> = {
      kind: spec.kind,
      convert: spec.convert,
      key: spec.key,
      list: async () => {
        const result = await this.call(`list ${spec.kind}`, spec.list);
        return { items: result.items ?? [], resourceVersion: result.metadata?.resourceVersion ?? '' };
      },
      watch: async (resourceVersion, onEvent, done) => {
        const controller = await this.watcher.watch(
          spec.path,
          { ...spec.query, allowWatchBookmarks: true, resourceVersion: resourceVersion || undefined, timeoutSeconds: 300 },
          onEvent,
          (error: unknown) => {
            // A dropped watch may be the first sign of an API server restart; our own stop of a
            // watch (AbortError) and its idle timer (TimeoutError) are not (see retry-policy.ts).
            if (error) this.connection = nextConnectionState(this.connection, error, Date.now());
            done(error);
          },
        );
        return { stop: () => controller.abort() };
      },
    };
    return new Informer(source, pollMs, this.options.log);
  }
}

interface RequestContextLike {
  setSignal(signal: AbortSignal): void;
  setHeaderParam(key: string, value: string): void;
  getDispatcher?(): unknown;
  setDispatcher?(dispatcher: unknown): void;
}

interface ListResult {
  items?: unknown[];
  metadata?: { resourceVersion?: string };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export { ClusterError };
