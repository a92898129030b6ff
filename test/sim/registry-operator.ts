// The image registry operator, reduced to how it reacts to the Config `cluster` (DOMAIN.md 7).
/* eslint-disable @typescript-eslint/no-explicit-any */
import crypto from 'node:crypto';
import { objectPath, PATHS, REGISTRY_CONFIG_NAME, REGISTRY_NAMESPACE } from '../../src/cluster/paths.ts';
import { call, isStatus, sameConditions, sleep, withTransitionTimes } from './common.ts';
import type { Condition, ConditionStatus, SimContext } from './common.ts';
import { Informer } from './informer.ts';

export const DEFAULT_CLAIM = 'image-registry-storage';
const REGISTRY_CONFIG_PATH = PATHS.registryConfig;
const CONFIGS_PATH = PATHS.registryConfigs;
const CO_PATH = objectPath(PATHS.clusterOperators, 'image-registry');
const PVC_PATH = PATHS.registryPvcs;
const STORAGE_KINDS = ['emptyDir', 'pvc', 's3', 'gcs', 'swift', 'azure', 'ibmcos', 'oss'];

export interface RegistryOperatorOptions {
  /** Create Config `cluster` (Removed, as on bare metal) if it does not exist. Default true. */
  create?: boolean;
  /** The ImageRegistry capability is disabled: no Config, no image-registry ClusterOperator. */
  capabilityDisabled?: boolean;
  /** How long a valid rollout stays Progressing. Default 2000 ms. */
  rolloutMs?: number;
  /** Re-reconcile period, for changes the Config watch does not see (PVCs). Default 1000 ms. */
  resyncMs?: number;
  faults?: {
    /**
     * Bumps the Config with an unrelated spec change (logLevel) every `everyMs` (default 100),
     * until stopped, so a client's read-modify-write that sends the
     * resourceVersion it read races it and gets 409 Conflict. Timing-based: the API server does
     * not tell anyone when a client reads.
     */
    rewriteBetweenReadAndPatch?: { everyMs?: number };
  };
}

interface Verdict {
  conditions: Condition[];
  /** Available/Progressing/Degraded of the image-registry ClusterOperator */
  operator: Condition[];
  /** status.storage and storageManaged, written only once the rollout completed */
  storage?: { storage: any; storageManaged: boolean };
}

const cond = (type: string, status: ConditionStatus, reason: string, message: string): Condition => ({ type, status, reason, message });

export class RegistryOperator {
  readonly #ctx: SimContext;
  readonly #opts: RegistryOperatorOptions;
  #informer: Informer | undefined;
  #stopped = false;
  #running: Promise<void> | undefined;
  #dirty = false;
  #resync: NodeJS.Timeout | undefined;
  #rolloutTimer: NodeJS.Timeout | undefined;
  #rollout: { key: string; startedAt: number } | undefined;
  #everAvailable = false;
  #faultTimer: NodeJS.Timeout | undefined;
  reconciles = 0;
  configBumps = 0;

  constructor(ctx: SimContext, opts: RegistryOperatorOptions = {}) {
    this.#ctx = ctx;
    this.#opts = opts;
  }

  async start(): Promise<void> {
    if (this.#opts.capabilityDisabled) return;
    await call(this.#ctx, 'POST', PATHS.clusterOperators, {
      body: { apiVersion: 'config.openshift.io/v1', kind: 'ClusterOperator', metadata: { name: 'image-registry' }, spec: {} },
    }).catch((e) => {
      if (!isStatus(e, 409)) throw e;
    });
    if (this.#opts.create ?? true) {
      await call(this.#ctx, 'POST', CONFIGS_PATH, {
        body: {
          apiVersion: 'imageregistry.operator.openshift.io/v1',
          kind: 'Config',
          metadata: { name: REGISTRY_CONFIG_NAME },
          spec: { managementState: 'Removed', replicas: 1, storage: {}, httpSecret: crypto.randomBytes(64).toString('hex'), logLevel: 'Normal' },
        },
      }).catch((e) => {
        if (!isStatus(e, 409)) throw e;
      });
    }
    this.#informer = new Informer(this.#ctx, `${CONFIGS_PATH}?fieldSelector=metadata.name%3D${REGISTRY_CONFIG_NAME}`, () => this.kick());
    await this.#informer.start();
    this.#resync = setInterval(() => this.kick(), this.#opts.resyncMs ?? 1000);
    this.#startFault();
    await this.#running;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#resync);
    clearTimeout(this.#rolloutTimer);
    clearInterval(this.#faultTimer);
    await this.#informer?.stop();
    await this.#running?.catch(() => {});
  }

  /** Requests a reconcile; reconciles never overlap. */
  kick(): void {
    if (this.#stopped) return;
    this.#dirty = true;
    this.#running ??= this.#loop().finally(() => (this.#running = undefined));
  }

  /** An unrelated spec change: a new generation and resourceVersion, same registry. */
  async bumpConfig(): Promise<void> {
    const cfg = await call<any>(this.#ctx, 'GET', REGISTRY_CONFIG_PATH);
    const logLevel = cfg.spec.logLevel === 'Debug' ? 'Normal' : 'Debug';
    await call(this.#ctx, 'PATCH', REGISTRY_CONFIG_PATH, { body: { spec: { logLevel } }, contentType: 'application/merge-patch+json' });
    this.configBumps++;
    this.#ctx.log.emit('registry-config-bumped', 'image-registry', { detail: `logLevel ${logLevel}` });
  }

  async #loop(): Promise<void> {
    while (this.#dirty && !this.#stopped) {
      this.#dirty = false;
      try {
        await this.#reconcile();
      } catch (e) {
        if (this.#stopped) return;
        if (!isStatus(e, 409)) this.#ctx.log.emit('error', 'image-registry', { detail: (e as Error).message });
        this.#dirty = true;
        await sleep(200);
      }
    }
  }

  async #reconcile(): Promise<void> {
    this.reconciles++;
    const stopped = () => this.#stopped;
    const cfg = await call<any>(this.#ctx, 'GET', REGISTRY_CONFIG_PATH, { stopped }).catch((e) => {
      if (isStatus(e, 404)) return undefined;
      throw e;
    });
    if (!cfg) return;
    const verdict = await this.#evaluate(cfg);
    if (!verdict) return; // the spec was rewritten: the watch brings the next round

    const status = cfg.status ?? {};
    const conditions = withTransitionTimes(verdict.conditions, status.conditions);
    // status.storage and storageManaged are required by OpenShift's schema: the operator writes
    // empty storage and false until a rollout has applied one.
    const next: any = { storage: {}, storageManaged: false, ...status, conditions, observedGeneration: cfg.metadata.generation };
    if (verdict.storage) {
      next.storage = verdict.storage.storage;
      next.storageManaged = verdict.storage.storageManaged;
      next.readyReplicas = cfg.spec.replicas ?? 1;
    }
    const changed =
      !sameConditions(status.conditions, conditions) ||
      status.observedGeneration !== next.observedGeneration ||
      JSON.stringify(status.storage) !== JSON.stringify(next.storage) ||
      status.storageManaged !== next.storageManaged;
    if (changed) {
      // PUT with the resourceVersion as read: a concurrent spec change makes this 409 and retry
      await call(this.#ctx, 'PUT', `${REGISTRY_CONFIG_PATH}/status`, { body: { ...cfg, status: next }, stopped });
      this.#ctx.log.emit('registry-status', 'image-registry', { detail: conditions.map((c) => `${c.type}=${c.status}`).join(' ') });
    }
    await this.#writeOperator(verdict.operator);
  }

  async #evaluate(cfg: any): Promise<Verdict | undefined> {
    const spec = cfg.spec ?? {};
    const state: string = spec.managementState ?? '';
    if (state === 'Removed') {
      this.#rollout = undefined;
      this.#everAvailable = false;
      return {
        conditions: [
          cond('Available', 'True', 'Removed', 'The registry is removed'),
          cond('Progressing', 'False', 'Removed', 'All registry resources are removed'),
          cond('Degraded', 'False', 'Removed', 'The registry is removed'),
          cond('Removed', 'True', 'Removed', 'Management state is removed'),
        ],
        operator: [
          cond('Available', 'True', 'Removed', 'Available: The registry is removed'),
          cond('Progressing', 'False', 'Removed', 'Progressing: All registry resources are removed'),
          cond('Degraded', 'False', 'Removed', ''),
        ],
      };
    }
    if (state !== 'Managed' && state !== 'Force') {
      // Unmanaged (or unknown): the operator leaves everything as it is
      return { conditions: cfg.status?.conditions ?? [], operator: (await this.#currentOperatorConditions()) ?? [] };
    }

    const storage = spec.storage ?? {};
    const kinds = STORAGE_KINDS.filter((k) => storage[k] !== undefined && storage[k] !== null);
    if (kinds.length === 0) return this.#failing('StorageNotConfigured', 'storage backend not configured');
    if (kinds.length > 1) {
      return this.#failing('Error', `exactly one storage type should be configured at the same time, got ${kinds.length}: [${kinds.join(' ')}]`);
    }

    let storageManaged = false;
    if (kinds[0] === 'pvc') {
      const claim: string = storage.pvc.claim ?? '';
      if (claim === '') return this.#claimDefault(cfg);
      const pvc = await call<any>(this.#ctx, 'GET', objectPath(PVC_PATH, claim)).catch((e) => {
        if (isStatus(e, 404)) return undefined;
        throw e;
      });
      if (!pvc) return this.#failing('Error', `unable to sync storage configuration: persistentvolumeclaims "${claim}" not found`);
      const modes: string[] = pvc.spec?.accessModes ?? [];
      const rwo = modes.includes('ReadWriteOnce') && !modes.includes('ReadWriteMany');
      // A rolling update surges a second pod onto a volume only one node can mount: it never finishes.
      if (rwo && ((spec.rolloutStrategy || 'RollingUpdate') !== 'Recreate' || (spec.replicas ?? 1) > 1)) {
        this.#rollout = undefined;
        this.#everAvailable = false;
        return {
          conditions: [
            cond('Available', 'False', 'DeploymentNotCompleted', 'The deployment does not have available replicas'),
            cond('Progressing', 'True', 'Error',
              `Unable to apply resources: claim "${claim}" is ReadWriteOnce: the registry needs rolloutStrategy Recreate and at most 1 replica`),
            cond('Degraded', 'False', 'AsExpected', ''),
            cond('Removed', 'False', 'AsExpected', ''),
            cond('StorageExists', 'True', 'PVCExists', `PVC ${claim} exists`),
          ],
          operator: [
            cond('Available', 'False', 'NoReplicasAvailable', 'Available: The deployment does not have available replicas'),
            cond('Progressing', 'True', 'Error', `Progressing: Unable to apply resources: claim "${claim}" is ReadWriteOnce`),
            cond('Degraded', 'False', 'AsExpected', ''),
          ],
        };
      }
      storageManaged = claim === DEFAULT_CLAIM && pvc.metadata?.annotations?.['imageregistry.openshift.io'] === 'true';
    }
    return this.#rolloutVerdict(spec, storageManaged);
  }

  // `pvc: {claim: ""}`: the operator creates its own claim and writes the name back into spec.
  async #claimDefault(cfg: any): Promise<Verdict | undefined> {
    const existing = await call<any>(this.#ctx, 'GET', objectPath(PVC_PATH, DEFAULT_CLAIM)).catch((e) => {
      if (isStatus(e, 404)) return undefined;
      throw e;
    });
    if (existing && existing.metadata?.annotations?.['imageregistry.openshift.io'] !== 'true') {
      return this.#failing('Error', `PVC ${DEFAULT_CLAIM} already exists and was not created by the operator; name it in spec.storage.pvc.claim`);
    }
    if (!existing) {
      await call(this.#ctx, 'POST', PVC_PATH, {
        body: {
          apiVersion: 'v1',
          kind: 'PersistentVolumeClaim',
          metadata: { name: DEFAULT_CLAIM, namespace: REGISTRY_NAMESPACE, annotations: { 'imageregistry.openshift.io': 'true' } },
          spec: { accessModes: ['ReadWriteMany'], resources: { requests: { storage: '100Gi' } } },
        },
      }).catch((e) => {
        if (!isStatus(e, 409)) throw e;
      });
      this.#ctx.log.emit('registry-pvc-created', 'image-registry', { detail: DEFAULT_CLAIM });
    }
    await call(this.#ctx, 'PATCH', REGISTRY_CONFIG_PATH, {
      body: { metadata: { resourceVersion: cfg.metadata.resourceVersion }, spec: { storage: { pvc: { claim: DEFAULT_CLAIM }, managementState: 'Managed' } } },
      contentType: 'application/merge-patch+json',
    });
    this.#ctx.log.emit('registry-spec-rewrite', 'image-registry', { detail: `storage.pvc.claim=${DEFAULT_CLAIM}` });
    return undefined;
  }

  #rolloutVerdict(spec: any, storageManaged: boolean): Verdict {
    const { managementState: _ignored, ...storage } = spec.storage;
    const key = JSON.stringify([storage, spec.replicas, spec.rolloutStrategy ?? '', spec.managementState]);
    const rolloutMs = this.#opts.rolloutMs ?? 2000;
    if (this.#rollout?.key !== key) {
      this.#rollout = { key, startedAt: Date.now() };
      clearTimeout(this.#rolloutTimer);
      this.#rolloutTimer = setTimeout(() => this.kick(), rolloutMs);
    }
    const storageExists = cond('StorageExists', 'True', 'StorageExists', 'Storage exists');
    if (Date.now() - this.#rollout.startedAt < rolloutMs) {
      const available = this.#everAvailable
        ? cond('Available', 'True', 'Ready', 'The registry has minimum availability')
        : cond('Available', 'False', 'NoReplicasAvailable', 'The deployment does not have available replicas');
      return {
        conditions: [
          available,
          cond('Progressing', 'True', 'DeploymentNotCompleted', 'The deployment has not completed'),
          cond('Degraded', 'False', 'AsExpected', ''),
          cond('Removed', 'False', 'AsExpected', ''),
          storageExists,
        ],
        operator: [
          { ...available, message: `Available: ${available.message}` },
          cond('Progressing', 'True', 'DeploymentNotCompleted', 'Progressing: The deployment has not completed'),
          cond('Degraded', 'False', 'AsExpected', ''),
        ],
      };
    }
    this.#everAvailable = true;
    return {
      conditions: [
        cond('Available', 'True', 'Ready', 'The registry is ready'),
        cond('Progressing', 'False', 'Ready', 'The registry is ready'),
        cond('Degraded', 'False', 'AsExpected', ''),
        cond('Removed', 'False', 'AsExpected', ''),
        storageExists,
      ],
      operator: [
        cond('Available', 'True', 'Ready', 'Available: The registry is ready'),
        cond('Progressing', 'False', 'Ready', 'Progressing: The registry is ready'),
        cond('Degraded', 'False', 'AsExpected', ''),
      ],
      storage: { storage: structuredClone(spec.storage), storageManaged },
    };
  }

  // What the operator reports while it cannot apply its resources; the next valid spec rolls out anew.
  #failing(reason: string, message: string): Verdict {
    this.#rollout = undefined;
    this.#everAvailable = false;
    return {
      conditions: [
        cond('Available', 'False', reason, message),
        cond('Progressing', 'True', 'Error', `Unable to apply resources: ${message}`),
        cond('Degraded', 'True', reason, message),
        cond('Removed', 'False', 'AsExpected', ''),
      ],
      operator: [
        cond('Available', 'False', reason, `Available: ${message}`),
        cond('Progressing', 'True', 'Error', `Progressing: Unable to apply resources: ${message}`),
        cond('Degraded', 'True', reason, `Degraded: ${message}`),
      ],
    };
  }

  async #currentOperatorConditions(): Promise<Condition[] | undefined> {
    const co = await call<any>(this.#ctx, 'GET', CO_PATH).catch((e) => {
      if (!isStatus(e, 404)) throw e;
    });
    return co?.status?.conditions;
  }

  async #writeOperator(conditions: Condition[]): Promise<void> {
    const previous = await this.#currentOperatorConditions();
    if (sameConditions(previous, conditions)) return;
    await call(this.#ctx, 'PATCH', `${CO_PATH}/status`, {
      body: { status: { conditions: withTransitionTimes(conditions, previous), versions: [{ name: 'operator', version: '4.16.0' }] } },
      contentType: 'application/merge-patch+json',
    });
  }

  #startFault(): void {
    const fault = this.#opts.faults?.rewriteBetweenReadAndPatch;
    if (!fault) return;
    this.#faultTimer = setInterval(() => {
      if (this.#stopped) return clearInterval(this.#faultTimer);
      this.bumpConfig().catch((e) => this.#ctx.log.emit('error', 'image-registry', { detail: `fault: ${(e as Error).message}` }));
    }, fault.everyMs ?? 100);
  }
}
