/**
 * Where each kind the action touches lives in the API: one list, for the gateway and for the
 * tests and simulator that read and write the same objects.
 */
export const REGISTRY_NAMESPACE = 'openshift-image-registry';

export const PATHS = {
  nodes: '/api/v1/nodes',
  csrs: '/apis/certificates.k8s.io/v1/certificatesigningrequests',
  csrApproval: (name: string) => `/apis/certificates.k8s.io/v1/certificatesigningrequests/${encodeURIComponent(name)}/approval`,
  clusterOperators: '/apis/config.openshift.io/v1/clusteroperators',
  clusterVersions: '/apis/config.openshift.io/v1/clusterversions',
  machineConfigPools: '/apis/machineconfiguration.openshift.io/v1/machineconfigpools',
  registryConfigs: '/apis/imageregistry.operator.openshift.io/v1/configs',
  registryConfig: '/apis/imageregistry.operator.openshift.io/v1/configs/cluster',
  registryPvcs: `/api/v1/namespaces/${REGISTRY_NAMESPACE}/persistentvolumeclaims`,
  networks: '/apis/config.openshift.io/v1/networks',
  infrastructures: '/apis/config.openshift.io/v1/infrastructures',
  kubeSystemConfigMaps: '/api/v1/namespaces/kube-system/configmaps',
  selfSubjectAccessReviews: '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
  events: (namespace: string) => `/api/v1/namespaces/${namespace}/events`,
} as const;

/** The one ClusterVersion and the one image registry Config an OpenShift 4 cluster has. */
export const CLUSTER_VERSION_NAME = 'version';
export const REGISTRY_CONFIG_NAME = 'cluster';
/** The cluster-wide config objects (Network, Infrastructure) are all named `cluster`. */
export const CLUSTER_CONFIG_NAME = 'cluster';
/** The ConfigMap in kube-system where the installer stores its install-config (key `install-config`). */
export const INSTALL_CONFIG_MAP = 'cluster-config-v1';

/** The path of one named object under a collection path. */
export const objectPath = (collection: string, name: string): string => `${collection}/${encodeURIComponent(name)}`;

/** A collection path's resource as RBAC names it: `/apis/config.openshift.io/v1/clusteroperators` -> `clusteroperators.config.openshift.io`. */
export function resourceOfPath(path: string): string {
  const parts = path.split('?')[0]!.split('/').filter(Boolean);
  const resource = parts.at(-1) ?? path;
  return parts[0] === 'apis' && parts.length >= 4 ? `${resource}.${parts[1]}` : resource;
}
