// ClusterOperators whose conditions follow a script, and a converging set for demos.
import { objectPath, PATHS } from '../../src/cluster/paths.ts';
import { call, isStatus, runSteps, seededRandom, withTransitionTimes } from './common.ts';
import type { Condition, ConditionStatus, ScriptStep, SimContext } from './common.ts';

/** The ClusterOperators of a 4.16 install (image-registry is left to RegistryOperator). */
export const OPENSHIFT_OPERATORS: readonly string[] = [
  'authentication', 'baremetal', 'cloud-controller-manager', 'cloud-credential', 'cluster-autoscaler',
  'config-operator', 'console', 'control-plane-machine-set', 'csi-snapshot-controller', 'dns', 'etcd',
  'ingress', 'insights', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler',
  'kube-storage-version-migrator', 'machine-api', 'machine-approver', 'machine-config', 'marketplace',
  'monitoring', 'network', 'node-tuning', 'openshift-apiserver', 'openshift-controller-manager',
  'openshift-samples', 'operator-lifecycle-manager', 'operator-lifecycle-manager-catalog',
  'operator-lifecycle-manager-packageserver', 'service-ca', 'storage',
];

/** null removes the condition; undefined leaves it as it is. */
export type ConditionValue = ConditionStatus | null;

export interface OperatorStep extends ScriptStep {
  available?: ConditionValue;
  progressing?: ConditionValue;
  degraded?: ConditionValue;
  upgradeable?: ConditionValue;
  /** reason of the conditions this step sets; default AsExpected for healthy values, else Scripted */
  reason?: string;
  /** message of the conditions this step sets */
  message?: string;
}

export interface ScriptedOperator {
  readonly name: string;
  /** Resolves after the last step is written (or on stop()). */
  readonly done: Promise<void>;
  /** steps written so far */
  readonly applied: number;
  stop(): void;
}

const TYPES = [
  ['available', 'Available', 'True'],
  ['progressing', 'Progressing', 'False'],
  ['degraded', 'Degraded', 'False'],
  ['upgradeable', 'Upgradeable', 'True'],
] as const;

/** Writes one ClusterOperator (spec: {}) and then its status at each step's time, in order. */
export function scriptOperator(ctx: SimContext, name: string, steps: OperatorStep[], opts: { version?: string } = {}): ScriptedOperator {
  const path = objectPath(PATHS.clusterOperators, name);
  const versions = [{ name: 'operator', version: opts.version ?? '4.16.0' }];
  let conditions: Condition[] = [];
  let stopped = false;
  const timers = new Set<NodeJS.Timeout>();
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => (finish = resolve));
  const state = { applied: 0 };

  const apply = async (step: OperatorStep): Promise<void> => {
    const next = new Map(conditions.map((c) => [c.type, c] as const));
    for (const [key, type, healthy] of TYPES) {
      const value = step[key];
      if (value === undefined) continue;
      if (value === null) next.delete(type);
      else next.set(type, { type, status: value, reason: step.reason ?? (value === healthy ? 'AsExpected' : 'Scripted'), message: step.message ?? '' });
    }
    const ordered = TYPES.map(([, type]) => next.get(type)).filter((c): c is Condition => c !== undefined);
    conditions = withTransitionTimes(ordered, conditions);
    await call(ctx, 'PATCH', `${path}/status`, {
      body: { status: { conditions, versions } },
      contentType: 'application/merge-patch+json',
      stopped: () => stopped,
    });
    state.applied++;
    ctx.log.emit('operator-step', name, { detail: conditions.map((c) => `${c.type}=${c.status}`).join(' ') });
  };

  const run = async (): Promise<void> => {
    try {
      await call(ctx, 'POST', PATHS.clusterOperators, {
        body: { apiVersion: 'config.openshift.io/v1', kind: 'ClusterOperator', metadata: { name }, spec: {} },
        stopped: () => stopped,
      }).catch((e) => {
        if (!isStatus(e, 409)) throw e;
      });
      await runSteps(steps, timers, () => stopped, apply);
    } catch (e) {
      if (!stopped) ctx.log.emit('error', name, { detail: (e as Error).message });
    } finally {
      finish();
    }
  };
  void run();

  return {
    name,
    done,
    get applied() {
      return state.applied;
    },
    stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      finish();
    },
  };
}

/**
 * Each operator starts Progressing (Available=False) and becomes Available, not Progressing, not
 * Degraded at a random time within `withinMs` (seeded, so runs repeat).
 */
export function convergingOperators(ctx: SimContext, names: readonly string[], opts: { withinMs: number; seed?: number }): ScriptedOperator[] {
  const random = seededRandom(opts.seed ?? 1);
  return names.map((name) =>
    scriptOperator(ctx, name, [
      { atMs: 0, available: 'False', progressing: 'True', degraded: 'False', upgradeable: 'True', message: 'Rolling out' },
      { atMs: Math.round(random() * opts.withinMs), available: 'True', progressing: 'False', degraded: 'False', message: 'All is well' },
    ]),
  );
}
