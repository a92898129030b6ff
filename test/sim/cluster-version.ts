// The cluster-version operator as the API shows it: ClusterVersion `version` with its desired
// release, history, capabilities and Available/Failing/Progressing conditions, following a script
// (DOMAIN 7b). Objects follow OpenShift's schema (status.desired, versionHash, availableUpdates
// and observedGeneration are required).
import crypto from 'node:crypto';
import { CLUSTER_VERSION_NAME, objectPath, PATHS } from '../../src/cluster/paths.ts';
import { call, isStatus, k8sTime, runSteps, withTransitionTimes } from './common.ts';
import type { Condition, ConditionStatus, ScriptStep, SimContext } from './common.ts';

const VERSION_PATH = objectPath(PATHS.clusterVersions, CLUSTER_VERSION_NAME);


/** The capabilities of OpenShift 4.21's vCurrent set (DOMAIN 7). */
export const KNOWN_CAPABILITIES: readonly string[] = [
  'Build', 'CSISnapshot', 'CloudControllerManager', 'CloudCredential', 'Console', 'DeploymentConfig',
  'ImageRegistry', 'Ingress', 'Insights', 'MachineAPI', 'NodeTuning', 'OperatorLifecycleManager',
  'OperatorLifecycleManagerV1', 'Storage', 'baremetal', 'marketplace', 'openshift-samples',
];

/** 4.16's schema has no OperatorLifecycleManagerV1 (its CRD refuses it). */
const KNOWN_IN: Record<'4.16' | '4.21', readonly string[]> = {
  '4.16': KNOWN_CAPABILITIES.filter((c) => c !== 'OperatorLifecycleManagerV1'),
  '4.21': KNOWN_CAPABILITIES,
};

export interface ClusterVersionStep extends ScriptStep {
  available?: ConditionStatus;
  progressing?: ConditionStatus;
  failing?: ConditionStatus;
  /** the newest history entry is Completed (else Partial) */
  completed?: boolean;
  /** message of Failing (when True) and Progressing */
  message?: string;
}

export interface ClusterVersionOptions {
  /** the release whose schema and capabilities to follow; default 4.21 */
  release?: '4.16' | '4.21';
  /** status.desired.version; default <release>.0 */
  version?: string;
  /** default: every known capability */
  enabledCapabilities?: readonly string[];
  /** default: installing (Progressing) at 0 ms, completed after 500 ms */
  steps?: ClusterVersionStep[];
}

/** An install in progress that completes after `afterMs`. */
export const completesAfter = (afterMs: number): ClusterVersionStep[] => [
  { atMs: 0, available: 'False', progressing: 'True', failing: 'False', completed: false, message: 'Working towards 4.21.0: 512 of 903 done (56% complete)' },
  { atMs: afterMs, available: 'True', progressing: 'False', failing: 'False', completed: true, message: 'Cluster version is 4.21.0' },
];

export interface SimulatedClusterVersion {
  /** Resolves once the object exists with its first status. */
  readonly started: Promise<void>;
  readonly done: Promise<void>;
  stop(): void;
}

export function simulateClusterVersion(ctx: SimContext, opts: ClusterVersionOptions = {}): SimulatedClusterVersion {
  const release = opts.release ?? '4.21';
  const version = opts.version ?? `${release}.0`;
  const known = KNOWN_IN[release];
  const image = `quay.io/openshift-release-dev/ocp-release@sha256:${crypto.createHash('sha256').update(version).digest('hex')}`;
  const startedTime = k8sTime();
  let conditions: Condition[] = [];
  let stopped = false;
  const timers = new Set<NodeJS.Timeout>();
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => (finish = resolve));
  let markStarted: () => void = () => {};
  const started = new Promise<void>((resolve) => (markStarted = resolve));

  const apply = async (step: ClusterVersionStep, generation: number): Promise<void> => {
    const message = step.message ?? '';
    const next: Condition[] = [
      { type: 'Available', status: step.available ?? 'False', reason: step.available === 'True' ? 'AsExpected' : 'Installing', message: step.available === 'True' ? `Done applying ${version}` : '' },
      { type: 'Failing', status: step.failing ?? 'False', reason: step.failing === 'True' ? 'ClusterOperatorDegraded' : 'AsExpected', message: step.failing === 'True' ? message : '' },
      { type: 'Progressing', status: step.progressing ?? 'True', reason: step.progressing === 'False' ? 'AsExpected' : 'Installing', message },
      { type: 'RetrievedUpdates', status: 'False', reason: 'NoChannel', message: 'The update channel has not been configured.' },
    ];
    conditions = withTransitionTimes(next, conditions);
    const status = {
      desired: { version, image },
      history: [{ state: step.completed ? 'Completed' : 'Partial', version, image, startedTime, completionTime: step.completed ? k8sTime() : null, verified: false }],
      observedGeneration: generation,
      versionHash: 'sim0000000=',
      availableUpdates: null,
      capabilities: { enabledCapabilities: [...(opts.enabledCapabilities ?? known)], knownCapabilities: [...known] },
      conditions,
    };
    // PUT, not a merge patch: in a merge patch the required nulls (completionTime of a Partial
    // entry, availableUpdates) would delete their fields.
    const current = await call<object>(ctx, 'GET', VERSION_PATH, { stopped: () => stopped });
    await call(ctx, 'PUT', `${VERSION_PATH}/status`, { body: { ...current, status }, stopped: () => stopped });
    ctx.log.emit('cluster-version-step', 'version', { detail: conditions.slice(0, 3).map((c) => `${c.type}=${c.status}`).join(' ') });
  };

  const run = async (): Promise<void> => {
    try {
      const created = await call<{ metadata: { generation: number } }>(ctx, 'POST', PATHS.clusterVersions, {
        body: { apiVersion: 'config.openshift.io/v1', kind: 'ClusterVersion', metadata: { name: CLUSTER_VERSION_NAME }, spec: { clusterID: crypto.randomUUID() } },
        stopped: () => stopped,
      }).catch(async (e) => {
        if (!isStatus(e, 409)) throw e;
        return call<{ metadata: { generation: number } }>(ctx, 'GET', VERSION_PATH);
      });
      await runSteps(opts.steps ?? completesAfter(500), timers, () => stopped, async (step) => {
        await apply(step, created.metadata.generation);
        markStarted();
      });
    } catch (e) {
      if (!stopped) ctx.log.emit('error', 'version', { detail: (e as Error).message });
    } finally {
      markStarted();
      finish();
    }
  };
  void run();

  return {
    started,
    done,
    stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      finish();
    },
  };
}
