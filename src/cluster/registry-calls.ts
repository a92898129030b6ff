import type { ApiClient } from './client.ts';
import type { CallLimits } from './retry.ts';
import { statusOf } from './errors.ts';
import { toPvc, toRegistryConfig, type PvcInfo, type RegistryConfig } from './objects.ts';
import { objectPath, PATHS, REGISTRY_NAMESPACE } from './paths.ts';

export interface ClaimRequest {
  readonly name: string;
  readonly size: string;
  readonly accessMode: string;
  readonly storageClass: string;
}

/**
 * 'kind-missing' when the API has no imageregistry Config kind (the ImageRegistry capability
 * is disabled), 'missing' when the kind exists but the operator has not created `cluster` yet.
 */
export async function readRegistryConfig(client: ApiClient, limits: CallLimits = {}): Promise<RegistryConfig | 'kind-missing' | 'missing'> {
  try {
    return toRegistryConfig(await client.send('read imageregistry Config cluster', 'GET', PATHS.registryConfig, {}, limits));
  } catch (error) {
    if (statusOf(error) !== 404) throw error;
    return /"cluster" not found/.test((error as Error).message) ? 'missing' : 'kind-missing';
  }
}

export async function patchRegistryConfig(client: ApiClient, patch: object, limits: CallLimits = {}): Promise<RegistryConfig> {
  return toRegistryConfig(
    await client.send('patch imageregistry Config cluster', 'PATCH', PATHS.registryConfig, { body: patch, contentType: 'application/merge-patch+json' }, limits),
  );
}

export async function readPvc(client: ApiClient, name: string, limits: CallLimits = {}): Promise<PvcInfo | undefined> {
  try {
    return toPvc(await client.send(`read PersistentVolumeClaim ${REGISTRY_NAMESPACE}/${name}`, 'GET', objectPath(PATHS.registryPvcs, name), {}, limits));
  } catch (error) {
    if (statusOf(error) === 404) return undefined;
    throw error;
  }
}

export async function createPvc(client: ApiClient, claim: ClaimRequest, limits: CallLimits = {}): Promise<PvcInfo> {
  try {
    return toPvc(await client.send(`create PersistentVolumeClaim ${REGISTRY_NAMESPACE}/${claim.name}`, 'POST', PATHS.registryPvcs, { body: claimObject(claim) }, limits));
  } catch (error) {
    // A retried create whose first attempt succeeded: the claim is there, as asked.
    const existing = statusOf(error) === 409 ? await readPvc(client, claim.name, limits) : undefined;
    if (existing) return existing;
    throw error;
  }
}

function claimObject(claim: ClaimRequest): object {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: claim.name, namespace: REGISTRY_NAMESPACE, labels: { 'app.kubernetes.io/managed-by': 'openshift-finish-install' } },
    spec: {
      accessModes: [claim.accessMode],
      resources: { requests: { storage: claim.size } },
      ...(claim.storageClass ? { storageClassName: claim.storageClass } : {}),
    },
  };
}
