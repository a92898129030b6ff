// OpenShift's own completion signal (DOMAIN 7b): the ClusterVersion `version` is Available=True,
// Failing=False, Progressing=False and its newest history entry is Completed, which is what
// `openshift-install wait-for install-complete` waits for. And its capabilities (4.14+): the
// operators of a disabled capability do not exist, so nothing waits for them.
import type { ClusterVersionInfo, Condition } from '../cluster/objects.ts';

/** The `cluster-version` output. */
export interface ClusterVersionState {
  readonly version: string;
  readonly completed: boolean;
  readonly available: boolean;
  readonly progressing: boolean;
  readonly failing: boolean;
  /** what a person reads first: Failing's message when failing, else Progressing's, else Available's */
  readonly message: string;
}

export function clusterVersionState(cv: ClusterVersionInfo): ClusterVersionState {
  const find = (type: string): Condition | undefined => cv.conditions.find((c) => c.type === type);
  const is = (type: string, status: string) => find(type)?.status === status;
  const failing = is('Failing', 'True');
  const progressing = !is('Progressing', 'False');
  const text = (c: Condition | undefined) => c?.message ?? '';
  const message = failing ? text(find('Failing')) : progressing ? text(find('Progressing')) || 'Progressing condition missing' : text(find('Available'));
  return {
    version: cv.desiredVersion,
    completed: cv.history[0]?.state === 'Completed',
    available: is('Available', 'True'),
    progressing,
    failing,
    message,
  };
}

/** Complete as openshift-install defines it; a missing condition is not complete. */
export function isInstallComplete(cv: ClusterVersionInfo): boolean {
  const status = (type: string) => cv.conditions.find((c) => c.type === type)?.status;
  return status('Available') === 'True' && status('Failing') === 'False' && status('Progressing') === 'False' && cv.history[0]?.state === 'Completed';
}

/** What still keeps the install from being complete, in a few words (failure lines, summary). */
export function whatClusterVersionLacks(cv: ClusterVersionInfo | undefined): string {
  if (!cv) return 'ClusterVersion version not found';
  if (isInstallComplete(cv)) return '';
  const state = clusterVersionState(cv);
  const parts = [
    state.failing ? 'Failing' : '',
    state.progressing ? 'Progressing' : '',
    state.available ? '' : 'not Available',
    state.completed ? '' : `history ${cv.history[0]?.state ?? 'empty'}`,
  ].filter(Boolean);
  return `ClusterVersion ${state.version || 'version'} ${parts.join(', ')}${state.message ? `: ${state.message}` : ''}`;
}

/**
 * The ClusterOperators of each optional capability (OpenShift 4.14 to 4.21). Build and
 * DeploymentConfig have none.
 */
export const CAPABILITY_OPERATORS: Readonly<Record<string, readonly string[]>> = {
  baremetal: ['baremetal'],
  CloudControllerManager: ['cloud-controller-manager'],
  CloudCredential: ['cloud-credential'],
  Console: ['console'],
  CSISnapshot: ['csi-snapshot-controller'],
  ImageRegistry: ['image-registry'],
  Ingress: ['ingress'],
  Insights: ['insights'],
  MachineAPI: ['machine-api', 'control-plane-machine-set', 'cluster-autoscaler'],
  marketplace: ['marketplace'],
  NodeTuning: ['node-tuning'],
  'openshift-samples': ['openshift-samples'],
  OperatorLifecycleManager: ['operator-lifecycle-manager', 'operator-lifecycle-manager-catalog', 'operator-lifecycle-manager-packageserver'],
  OperatorLifecycleManagerV1: ['olm'],
  Storage: ['storage'],
};

/**
 * false only when the cluster says so: the capability is known to the release and not enabled. A
 * cluster that reports no capabilities (before 4.11), or no ClusterVersion, has everything.
 */
export function capabilityEnabled(cv: ClusterVersionInfo | undefined, capability: string): boolean {
  const caps = cv?.capabilities;
  if (!caps || !caps.known.includes(capability)) return true;
  return caps.enabled.includes(capability);
}

/** The operators nothing should wait for: those of the disabled capabilities. */
export function operatorsOfDisabledCapabilities(cv: ClusterVersionInfo | undefined): string[] {
  return Object.entries(CAPABILITY_OPERATORS)
    .filter(([capability]) => !capabilityEnabled(cv, capability))
    .flatMap(([, operators]) => operators)
    .sort();
}
