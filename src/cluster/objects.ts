/** Plain views of the cluster objects the core decides on; the gateway converts to these. */

export type CsrState = 'pending' | 'approved' | 'denied' | 'failed';

export interface Csr {
  readonly name: string;
  readonly uid: string;
  readonly resourceVersion: string;
  readonly createdAt: number;
  readonly signerName: string;
  readonly username: string;
  readonly groups: readonly string[];
  readonly usages: readonly string[];
  /** base64 PEM, as in spec.request. */
  readonly request: string;
  /** spec.expirationSeconds: the certificate's lifetime the requester asks for (the signer may cap it); a kubelet sets none. */
  readonly expirationSeconds?: number;
  readonly state: CsrState;
  /** The reason of the Approved condition, when approved. */
  readonly approvedBy?: string;
  readonly issued: boolean;
}

export interface NodeAddress {
  readonly type: string;
  readonly address: string;
}

export interface NodeInfo {
  readonly name: string;
  readonly ready: boolean;
  readonly addresses: readonly NodeAddress[];
  /** which MachineConfigPool selects the Node (node-role.kubernetes.io/<pool>) */
  readonly labels?: Readonly<Record<string, string>>;
}

export interface Condition {
  readonly type: string;
  readonly status: string;
  readonly reason?: string;
  readonly message?: string;
}

export interface ClusterOperatorInfo {
  readonly name: string;
  readonly conditions: readonly Condition[];
  /** Where the operator says to look when it is unhappy (for diagnostics). */
  readonly relatedObjects?: ReadonlyArray<{ group: string; resource: string; namespace?: string; name: string }>;
}

/** ClusterVersion `version` (DOMAIN 7b): what the completion signal and the capability check read. */
export interface ClusterVersionInfo {
  readonly desiredVersion: string;
  /** status.history, newest first: the state (Completed or Partial) and version of each entry */
  readonly history: ReadonlyArray<{ readonly state: string; readonly version: string }>;
  readonly conditions: readonly Condition[];
  /** undefined where the cluster reports no capabilities (before OpenShift 4.11) */
  readonly capabilities?: { readonly enabled: readonly string[]; readonly known: readonly string[] };
}

export interface MachineConfigPoolInfo {
  readonly name: string;
  readonly generation: number;
  readonly observedGeneration: number;
  readonly machineCount: number;
  readonly updatedMachineCount: number;
  readonly readyMachineCount: number;
  readonly conditions: readonly Condition[];
  /** spec.nodeSelector.matchLabels: the Nodes the pool should count */
  readonly nodeSelector: Readonly<Record<string, string>>;
}

export interface EventInfo {
  readonly type: string;
  readonly reason: string;
  readonly message: string;
  readonly count: number;
  readonly lastSeen: string;
}

/** imageregistry.operator.openshift.io/v1 Config, as far as this action reads it. */
export interface RegistryConfig {
  readonly resourceVersion: string;
  readonly generation: number;
  readonly spec: {
    readonly managementState?: string;
    readonly replicas?: number;
    readonly rolloutStrategy?: string;
    readonly storage?: Readonly<Record<string, unknown>>;
  };
  readonly status: {
    readonly observedGeneration?: number;
    readonly storage?: Readonly<Record<string, unknown>>;
    readonly conditions: readonly Condition[];
  };
}

export interface PvcInfo {
  readonly name: string;
  readonly accessModes: readonly string[];
  readonly annotations: Readonly<Record<string, string>>;
  readonly phase: string;
}

/* eslint-disable @typescript-eslint/no-explicit-any -- converters read API objects of either typed or raw JSON form */
const time = (value: any): number => (value ? new Date(value).getTime() : 0);

export function toCsr(o: any): Csr {
  const conditions: any[] = o.status?.conditions ?? [];
  const has = (type: string) => conditions.some((c) => c.type === type && c.status !== 'False');
  const state: CsrState = has('Denied') ? 'denied' : has('Failed') ? 'failed' : has('Approved') ? 'approved' : 'pending';
  return {
    name: o.metadata?.name ?? '',
    uid: o.metadata?.uid ?? '',
    resourceVersion: o.metadata?.resourceVersion ?? '',
    createdAt: time(o.metadata?.creationTimestamp),
    signerName: o.spec?.signerName ?? '',
    username: o.spec?.username ?? '',
    groups: o.spec?.groups ?? [],
    usages: o.spec?.usages ?? [],
    request: typeof o.spec?.request === 'string' ? o.spec.request : Buffer.from(o.spec?.request ?? []).toString('base64'),
    ...(typeof o.spec?.expirationSeconds === 'number' ? { expirationSeconds: o.spec.expirationSeconds } : {}),
    state,
    ...(state === 'approved' ? { approvedBy: String(conditions.find((c) => c.type === 'Approved')?.reason ?? '') } : {}),
    issued: Boolean(o.status?.certificate && String(o.status.certificate).length > 0),
  };
}

export function toNode(o: any): NodeInfo {
  const conditions: any[] = o.status?.conditions ?? [];
  return {
    name: o.metadata?.name ?? '',
    ready: conditions.some((c) => c.type === 'Ready' && c.status === 'True'),
    addresses: (o.status?.addresses ?? []).map((a: any) => ({ type: String(a.type), address: String(a.address) })),
    labels: { ...(o.metadata?.labels ?? {}) },
  };
}

const toCondition = (c: any): Condition => ({
  type: String(c.type),
  status: String(c.status),
  ...(c.reason ? { reason: String(c.reason) } : {}),
  ...(c.message ? { message: String(c.message) } : {}),
});

export function toClusterOperator(o: any): ClusterOperatorInfo {
  return {
    name: o.metadata?.name ?? '',
    conditions: (o.status?.conditions ?? []).map(toCondition),
    relatedObjects: (o.status?.relatedObjects ?? []).map((r: any) => ({ group: String(r.group ?? ''), resource: String(r.resource ?? ''), ...(r.namespace ? { namespace: String(r.namespace) } : {}), name: String(r.name ?? '') })),
  };
}

export function toClusterVersion(o: any): ClusterVersionInfo {
  const caps = o.status?.capabilities;
  return {
    desiredVersion: String(o.status?.desired?.version ?? ''),
    history: (o.status?.history ?? []).map((h: any) => ({ state: String(h.state ?? ''), version: String(h.version ?? '') })),
    conditions: (o.status?.conditions ?? []).map(toCondition),
    ...(caps ? { capabilities: { enabled: (caps.enabledCapabilities ?? []).map(String), known: (caps.knownCapabilities ?? []).map(String) } } : {}),
  };
}

export function toMachineConfigPool(o: any): MachineConfigPoolInfo {
  const count = (key: string) => Number(o.status?.[key] ?? 0);
  return {
    name: o.metadata?.name ?? '',
    generation: Number(o.metadata?.generation ?? 0),
    observedGeneration: count('observedGeneration'),
    machineCount: count('machineCount'),
    updatedMachineCount: count('updatedMachineCount'),
    readyMachineCount: count('readyMachineCount'),
    conditions: (o.status?.conditions ?? []).map(toCondition),
    nodeSelector: { ...(o.spec?.nodeSelector?.matchLabels ?? {}) },
  };
}

export function toEvent(o: any): EventInfo {
  return {
    type: String(o.type ?? ''),
    reason: String(o.reason ?? ''),
    message: String(o.message ?? ''),
    count: Number(o.count ?? 1),
    lastSeen: String(o.lastTimestamp ?? o.eventTime ?? o.metadata?.creationTimestamp ?? ''),
  };
}

export function toRegistryConfig(o: any): RegistryConfig {
  return {
    resourceVersion: o.metadata?.resourceVersion ?? '',
    generation: Number(o.metadata?.generation ?? 0),
    spec: o.spec ?? {},
    status: {
      ...(o.status?.observedGeneration !== undefined ? { observedGeneration: Number(o.status.observedGeneration) } : {}),
      ...(o.status?.storage ? { storage: o.status.storage } : {}),
      conditions: (o.status?.conditions ?? []).map(toCondition),
    },
  };
}

export function toPvc(o: any): PvcInfo {
  return {
    name: o.metadata?.name ?? '',
    accessModes: o.spec?.accessModes ?? [],
    annotations: o.metadata?.annotations ?? {},
    phase: o.status?.phase ?? '',
  };
}
