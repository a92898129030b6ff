import type { PvcInfo, RegistryConfig } from '../cluster/objects.ts';
import type { RegistryRequest } from '../settings/settings.ts';

export const DEFAULT_CLAIM = 'image-registry-storage';
/** The registry operator marks the claim it created itself with this annotation. */
export const OPERATOR_CLAIM_ANNOTATION = 'imageregistry.openshift.io';
const STORAGE_KEYS = ['emptyDir', 'pvc', 's3', 'gcs', 'swift', 'azure', 'ibmcos', 'oss'] as const;

/** What the registry must end up with (also the `registry` output, less ready/changed). */
export interface RegistryTarget {
  readonly managementState: 'Managed';
  readonly storage: 'emptyDir' | 'pvc';
  /** The claim the registry will use ('' for emptyDir). */
  readonly claim: string;
  readonly rolloutStrategy: string;
  readonly replicas: number;
}

export type RegistryPlan =
  | { readonly kind: 'refuse'; readonly input: string; readonly message: string }
  | {
      readonly kind: 'apply';
      readonly target: RegistryTarget;
      /** Merge patch for the Config; undefined when it already holds the target. */
      readonly patch: Record<string, unknown> | undefined;
      /** A claim to create before patching. */
      readonly createClaim: { name: string; size: string; accessMode: string; storageClass: string } | undefined;
      readonly notes: readonly string[];
    };

/**
 * Plans the registry change. Pure: the current Config, the claim it would use (when storage is
 * pvc) and the request in; one merge patch, a claim to create, or a refusal out.
 */
export function planRegistry(request: RegistryRequest, config: RegistryConfig, claim: PvcInfo | undefined): RegistryPlan {
  if (request.storage === 'keep') throw new Error('planRegistry called for registry-storage: keep');
  const notes: string[] = [];
  const spec = config.spec;
  const currentReplicas = spec.replicas ?? 1;
  const currentRollout = spec.rolloutStrategy || 'RollingUpdate';
  let replicas = request.replicas ?? currentReplicas;
  let rolloutStrategy = request.rolloutStrategy === 'auto' ? currentRollout : request.rolloutStrategy;
  let storageValue: Record<string, unknown> = {};
  let claimName = '';
  let createClaim: Extract<RegistryPlan, { kind: 'apply' }>['createClaim'];

  if (request.storage === 'emptyDir') {
    if (request.replicas !== undefined && request.replicas > 1) {
      return refuse('registry-replicas', `emptyDir storage with ${request.replicas} replicas gives each pod its own storage; use 1 replica or registry-storage: pvc`);
    }
    if (request.replicas === undefined && currentReplicas > 1) {
      replicas = 1;
      notes.push(`replicas ${currentReplicas} -> 1: emptyDir is not shared between pods`);
    }
  } else {
    claimName = request.claim || (request.size ? DEFAULT_CLAIM : '');
    const effectiveName = claimName || DEFAULT_CLAIM;
    let accessMode: string;
    if (claim) {
      if (!request.claim && !request.size && !(OPERATOR_CLAIM_ANNOTATION in claim.annotations)) {
        return refuse(
          'registry-pvc-claim',
          `PersistentVolumeClaim openshift-image-registry/${DEFAULT_CLAIM} exists but was not created by the registry operator (no ${OPERATOR_CLAIM_ANNOTATION} annotation); name it in registry-pvc-claim to use it`,
        );
      }
      accessMode = claim.accessModes.includes('ReadWriteMany') ? 'ReadWriteMany' : claim.accessModes[0] ?? 'ReadWriteOnce';
    } else if (request.size) {
      createClaim = { name: effectiveName, size: request.size, accessMode: request.accessMode, storageClass: request.storageClass };
      accessMode = request.accessMode;
    } else if (request.claim) {
      return refuse('registry-pvc-claim', `PersistentVolumeClaim openshift-image-registry/${request.claim} does not exist; create it or set registry-pvc-size to have it created`);
    } else {
      // The operator creates image-registry-storage itself: ReadWriteMany, 100Gi, default class.
      accessMode = 'ReadWriteMany';
    }
    if (accessMode !== 'ReadWriteMany') {
      // A ReadWriteOnce volume attaches to one node: RollingUpdate surges a second pod onto it
      // and the rollout deadlocks (cluster-image-registry-operator accepts RWO only this way).
      if (request.rolloutStrategy === 'RollingUpdate') {
        return refuse('registry-rollout-strategy', `a ${accessMode} claim needs rolloutStrategy Recreate; RollingUpdate would deadlock the rollout`);
      }
      if (request.replicas !== undefined && request.replicas > 1) {
        return refuse('registry-replicas', `a ${accessMode} claim allows 1 replica, not ${request.replicas}`);
      }
      rolloutStrategy = 'Recreate';
      replicas = 1;
    }
    storageValue = { claim: claimName };
  }

  const key = request.storage;
  const patchSpec: Record<string, unknown> = {};
  if (spec.managementState !== 'Managed') patchSpec.managementState = 'Managed';
  const storagePatch: Record<string, unknown> = {};
  for (const other of STORAGE_KEYS) {
    if (other !== key && spec.storage?.[other] != null) storagePatch[other] = null;
  }
  if (!storageMatches(key, spec.storage?.[key], claimName)) storagePatch[key] = storageValue;
  if (Object.keys(storagePatch).length > 0) patchSpec.storage = storagePatch;
  if (rolloutStrategy !== currentRollout || (request.rolloutStrategy !== 'auto' && spec.rolloutStrategy !== rolloutStrategy)) {
    patchSpec.rolloutStrategy = rolloutStrategy;
  }
  if (replicas !== spec.replicas) patchSpec.replicas = replicas;

  return {
    kind: 'apply',
    target: { managementState: 'Managed', storage: key, claim: key === 'pvc' ? claimName || DEFAULT_CLAIM : '', rolloutStrategy, replicas },
    patch: Object.keys(patchSpec).length > 0 ? { spec: patchSpec } : undefined,
    createClaim,
    notes,
  };
}

/** The operator rewrites an empty claim to the default name: both mean the same storage. */
export function storageMatches(key: string, value: unknown, claim: string): boolean {
  if (value == null || typeof value !== 'object') return false;
  if (key !== 'pvc') return true;
  const actual = (value as { claim?: string }).claim ?? '';
  return actual === claim || ((actual === '' || actual === DEFAULT_CLAIM) && (claim === '' || claim === DEFAULT_CLAIM));
}

export interface RegistryReadiness {
  readonly ready: boolean;
  /** What is still missing, for the log and the failure message. */
  readonly waitingFor: string;
}

/** Done means: the operator saw this generation, reports the requested storage, and is Available. */
export function registryReadiness(config: RegistryConfig, target: RegistryTarget): RegistryReadiness {
  const condition = (type: string) => config.status.conditions.find((c) => c.type === type);
  const describe = (type: string) => {
    const c = condition(type);
    return c ? `${type}=${c.status}${c.reason ? ` (${c.reason})` : ''}${c.message ? `: ${c.message}` : ''}` : `${type} missing`;
  };
  if ((config.status.observedGeneration ?? -1) < config.generation) {
    return { ready: false, waitingFor: `the operator to observe generation ${config.generation}` };
  }
  if (!storageMatches(target.storage, config.status.storage?.[target.storage], target.claim)) {
    return { ready: false, waitingFor: `status.storage to report ${target.storage}${target.claim ? ` claim ${target.claim}` : ''}` };
  }
  if (condition('Degraded')?.status === 'True') return { ready: false, waitingFor: `recovery from ${describe('Degraded')}` };
  if (condition('Removed')?.status === 'True') return { ready: false, waitingFor: describe('Removed') };
  if (condition('Available')?.status !== 'True') return { ready: false, waitingFor: describe('Available') };
  if (condition('Progressing')?.status !== 'False') return { ready: false, waitingFor: `rollout: ${describe('Progressing')}` };
  return { ready: true, waitingFor: '' };
}

function refuse(input: string, message: string): RegistryPlan {
  return { kind: 'refuse', input, message };
}
