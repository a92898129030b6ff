// Plumbing shared by the simulator: CPU accounting, the event log, retries, identities, conditions.
import { PATHS } from '../../src/cluster/paths.ts';
import { KubeApiError } from '../env/client.ts';
import type { KubeClient, RequestOptions } from '../env/client.ts';

/**
 * Counts the CPU time of the simulator's own synchronous work (event handling, key generation,
 * request building). process.cpuUsage() is process-wide, so only wrap synchronous sections:
 * anything else running meanwhile would be counted too.
 */
export class CpuMeter {
  #micros = 0;

  track<T>(fn: () => T): T {
    const before = process.cpuUsage();
    try {
      return fn();
    } finally {
      const d = process.cpuUsage(before);
      this.#micros += d.user + d.system;
    }
  }

  get ms(): number {
    return this.#micros / 1000;
  }
}

export type SimEventKind =
  | 'client-csr-created'
  | 'client-csr-approved'
  | 'client-csr-issued'
  | 'node-registered'
  | 'serving-csr-created'
  | 'serving-csr-approved'
  | 'serving-csr-issued'
  | 'ready'
  | 're-request'
  | 'stale-csr-approved'
  | 'csr-denied'
  | 'csr-failed'
  | 'operator-step'
  | 'cluster-version-step'
  | 'pool-status'
  | 'registry-status'
  | 'registry-spec-rewrite'
  | 'registry-pvc-created'
  | 'registry-config-bumped'
  | 'forged-csr'
  | 'watch-restart'
  | 'error';

export interface SimEvent {
  /** Date.now() when it happened */
  t: number;
  kind: SimEventKind;
  /** machine, operator or component name */
  subject: string;
  csr?: string;
  detail?: string;
}

export class EventLog {
  readonly entries: SimEvent[] = [];
  readonly #listeners = new Set<(e: SimEvent) => void>();

  emit(kind: SimEventKind, subject: string, extra: { csr?: string; detail?: string } = {}): void {
    const e: SimEvent = { t: Date.now(), kind, subject, ...extra };
    this.entries.push(e);
    for (const l of this.#listeners) l(e);
  }

  subscribe(listener: (e: SimEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

/** Caps the simulator's concurrent requests, so 1000 machines do not open 1000 sockets at once. */
export class Limiter {
  readonly #max: number;
  #active = 0;
  readonly #queue: Array<() => void> = [];

  constructor(max: number) {
    this.#max = max;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#active >= this.#max) await new Promise<void>((resolve) => this.#queue.push(resolve));
    this.#active++;
    try {
      return await fn();
    } finally {
      this.#active--;
      this.#queue.shift()?.();
    }
  }
}

/** What every simulated component shares. */
export interface SimContext {
  client: KubeClient;
  meter: CpuMeter;
  log: EventLog;
  limiter: Limiter;
}

export function newContext(client: KubeClient, opts: { maxConcurrentRequests?: number } = {}): SimContext {
  return { client, meter: new CpuMeter(), log: new EventLog(), limiter: new Limiter(opts.maxConcurrentRequests ?? 64) };
}

export class StoppedError extends Error {
  constructor() {
    super('simulator stopped');
    this.name = 'StoppedError';
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One request with the retries a kubelet or operator does: network errors, 429, 5xx, and 401/403
 * for a while (an API server that just restarted answers 403 until its authorizer caches fill).
 */
export async function call<T = unknown>(
  ctx: SimContext,
  method: string,
  path: string,
  opts: RequestOptions & { stopped?: () => boolean } = {},
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    if (opts.stopped?.()) throw new StoppedError();
    try {
      return await ctx.limiter.run(() => ctx.meter.track(() => ctx.client.request<T>(method, path, opts)));
    } catch (e) {
      const status = e instanceof KubeApiError ? e.status : undefined;
      // An authorization 403 ("User ... cannot ...") may be a restarted server's empty caches; an
      // admission 403 (NodeRestriction refusing another node's CN) is final.
      const unauthorized = status === 401 || (status === 403 && /User ".*" cannot/.test((e as Error).message));
      const transient = status === undefined || status === 429 || status >= 500 || (unauthorized && attempt < 10);
      if (!transient || attempt >= 60) throw e;
      await sleep(Math.min(100 * 2 ** attempt, 2000));
    }
  }
}

export const isStatus = (e: unknown, status: number): boolean => e instanceof KubeApiError && e.status === status;

export interface Identity {
  user: string;
  groups: string[];
}

export const BOOTSTRAPPER: Identity = {
  user: 'system:serviceaccount:openshift-machine-config-operator:node-bootstrapper',
  groups: ['system:serviceaccounts', 'system:serviceaccounts:openshift-machine-config-operator', 'system:authenticated'],
};

export const nodeIdentity = (name: string): Identity => ({ user: `system:node:${name}`, groups: ['system:nodes', 'system:authenticated'] });

export const SIGNER = {
  kubeletClient: 'kubernetes.io/kube-apiserver-client-kubelet',
  kubeletServing: 'kubernetes.io/kubelet-serving',
  apiserverClient: 'kubernetes.io/kube-apiserver-client',
} as const;

// What a current kubelet files (DOMAIN 4): since 1.27 an ECDSA key (the default) leaves out key
// encipherment; an RSA key keeps the legacy sets.
export const USAGES = {
  client: ['digital signature', 'client auth'],
  serving: ['digital signature', 'server auth'],
  rsaClient: ['digital signature', 'key encipherment', 'client auth'],
  rsaServing: ['digital signature', 'key encipherment', 'server auth'],
};

export function kubeletUsages(kind: 'client' | 'serving', keyType: 'ec' | 'rsa'): string[] {
  if (keyType === 'rsa') return kind === 'client' ? USAGES.rsaClient : USAGES.rsaServing;
  return kind === 'client' ? USAGES.client : USAGES.serving;
}

/** PATHS.csrs under the name scripts/soak imports. */
export const CSR_PATH = PATHS.csrs;

export function csrObject(pem: string, signerName: string, usages: string[]): object {
  return {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { generateName: 'csr-' },
    spec: { request: Buffer.from(pem).toString('base64'), signerName, usages },
  };
}

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  type: string;
  status: ConditionStatus;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

/** RFC 3339 at second precision, as Kubernetes writes metav1.Time. */
export const k8sTime = (ms = Date.now()): string => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

/** Keeps lastTransitionTime from `previous` when a condition's status did not change. */
export function withTransitionTimes(next: Condition[], previous: Condition[] | undefined): Condition[] {
  const now = k8sTime();
  return next.map((c) => {
    const old = previous?.find((p) => p.type === c.type);
    return { ...c, lastTransitionTime: old && old.status === c.status && old.lastTransitionTime ? old.lastTransitionTime : now };
  });
}

/** Conditions equal apart from lastTransitionTime. */
export function sameConditions(a: Condition[] | undefined, b: Condition[] | undefined): boolean {
  const strip = (cs: Condition[] | undefined) => (cs ?? []).map((c) => [c.type, c.status, c.reason ?? '', c.message ?? ''].join('\u0000'));
  return JSON.stringify(strip(a)) === JSON.stringify(strip(b));
}

/** mulberry32: a small seeded RNG, so demo timelines repeat. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A step of a script: applied `atMs` after the start and, when `after` is given, once that
 * resolves too. `after` ties a step to what a test has observed (a line in the action's log, a
 * read in the API server's audit) instead of a clock: on a busy machine a timed step can land
 * before the action has looked at all.
 */
export interface ScriptStep {
  /** ms after the script starts */
  atMs: number;
  /** awaited before the step is applied (after the previous step and atMs) */
  after?: () => Promise<unknown>;
}

/**
 * Runs `apply` for each step at its `atMs` after the start (and after its `after`), in order,
 * until `stopped()`. The timers it waits on are kept in `timers`, so that a stop can clear them.
 */
export async function runSteps<S extends ScriptStep>(steps: readonly S[], timers: Set<NodeJS.Timeout>, stopped: () => boolean, apply: (step: S) => Promise<void>): Promise<void> {
  const start = Date.now();
  for (const step of [...steps].sort((a, b) => a.atMs - b.atMs)) {
    const wait = start + step.atMs - Date.now();
    if (wait > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          timers.delete(t);
          resolve();
        }, wait);
        timers.add(t);
      });
    }
    if (step.after && !stopped()) await step.after();
    if (stopped()) return;
    await apply(step);
  }
}
