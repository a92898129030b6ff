// A user-provisioned install as the API server sees it: control-plane Nodes already Ready,
// worker kubelets asking for certificates, ClusterOperators converging, the registry operator.
import { objectPath, PATHS } from '../../src/cluster/paths.ts';
import type { ControlPlane } from '../env/controlplane.ts';
import { Adversary } from './adversary.ts';
import { call, isStatus, k8sTime, newContext } from './common.ts';
import type { EventLog, SimContext, SimEvent } from './common.ts';
import { CsrWatch } from './csr-watch.ts';
import { simulateClusterVersion } from './cluster-version.ts';
import type { ClusterVersionOptions, SimulatedClusterVersion } from './cluster-version.ts';
import { Kubelet } from './kubelet.ts';
import { MachineConfigPoolOperator } from './machine-config-pool.ts';
import type { PoolOptions } from './machine-config-pool.ts';
import { convergingOperators, scriptOperator } from './operators.ts';
import type { OperatorStep, ScriptedOperator } from './operators.ts';
import { RegistryOperator } from './registry-operator.ts';
import type { RegistryOperatorOptions } from './registry-operator.ts';

export interface WorkerSpec {
  name: string;
  addresses: string[];
  /** boot this long after startInstall resolves */
  startAfterMs?: number;
  /**
   * boot once this resolves: a machine that must come late for the action, after something it
   * has done (harness whenLogged), which a delay on a clock cannot promise on a busy machine
   */
  bootAfter?: () => Promise<unknown>;
  /** declared by the pipeline but never asks for a certificate */
  neverBoots?: boolean;
  preexistingClientCsrs?: number;
  preexistingGapMs?: number;
  /** default 'ec' (two-usage requests, as a current kubelet); 'rsa' files the legacy sets */
  keyType?: 'ec' | 'rsa';
  /** extra Node labels (node-role.kubernetes.io/<role> puts it in that MachineConfigPool) */
  labels?: Record<string, string>;
}

export interface InstallOptions {
  /** Nodes master-0.. created Ready, with addresses 10.0.0.10, 10.0.0.11, ... Default 3. */
  controlPlaneNodes?: number;
  workers?: WorkerSpec[];
  /** the kubelet certificate manager's timeout per CSR; default 15 min */
  reRequestAfterMs?: number;
  operators?: {
    /** each becomes stable at a random time within withinMs */
    converging?: { names: readonly string[]; withinMs: number; seed?: number };
    /** explicit condition timelines by operator name */
    scripted?: Record<string, OperatorStep[]>;
  };
  /** the image registry operator; false: none at all. Default { create: true }. */
  registry?: RegistryOperatorOptions | false;
  /**
   * ClusterVersion `version`; default: an install already complete. false: none (a test that
   * shares a control plane leaves it to one install).
   */
  clusterVersion?: ClusterVersionOptions | false;
  /** MachineConfigPools that follow the Nodes of their role; default none */
  pools?: PoolOptions[];
  /** cap on the simulator's concurrent API requests; default 64 */
  maxConcurrentRequests?: number;
}

export interface SimulatedInstall {
  ctx: SimContext;
  /** the workers, in the order given */
  kubelets: Kubelet[];
  kubelet(name: string): Kubelet;
  controlPlaneNodes: string[];
  operators: ScriptedOperator[];
  registry: RegistryOperator | undefined;
  clusterVersion: SimulatedClusterVersion | undefined;
  pools: MachineConfigPoolOperator[];
  adversary: Adversary;
  csrWatch: CsrWatch;
  log: EventLog;
  events: SimEvent[];
  /**
   * Resolves when the named workers (default: all that boot) are Ready; rejects after timeoutMs
   * (default: never) naming the workers still waiting and their phase.
   */
  whenReady(names?: string[], timeoutMs?: number): Promise<void>;
  /** CPU time of the simulator's own synchronous work so far */
  cpuMs(): number;
  /** Stops every watch, timer and kubelet; objects stay in the cluster. */
  stop(): Promise<void>;
}

export async function startInstall(cp: ControlPlane, opts: InstallOptions = {}): Promise<SimulatedInstall> {
  const ctx = newContext(cp.admin, { maxConcurrentRequests: opts.maxConcurrentRequests });
  const csrWatch = new CsrWatch(ctx);
  const operators: ScriptedOperator[] = [];
  const registry = opts.registry === false ? undefined : new RegistryOperator(ctx, opts.registry ?? {});
  const pools = (opts.pools ?? []).map((p) => new MachineConfigPoolOperator(ctx, p));
  let clusterVersion: SimulatedClusterVersion | undefined;
  const timers = new Set<NodeJS.Timeout>();
  let stopped = false;
  const workers = opts.workers ?? [];
  const kubelets = workers.map(
    (w) =>
      new Kubelet(ctx, csrWatch, {
        name: w.name,
        addresses: w.addresses,
        reRequestAfterMs: opts.reRequestAfterMs,
        preexistingClientCsrs: w.preexistingClientCsrs,
        preexistingGapMs: w.preexistingGapMs,
        keyType: w.keyType,
        labels: w.labels,
      }),
  );
  const byName = new Map(kubelets.map((k) => [k.name, k]));
  const booting = workers.filter((w) => !w.neverBoots).map((w) => w.name);
  const controlPlaneNodes = Array.from({ length: opts.controlPlaneNodes ?? 3 }, (_, i) => `master-${i}`);

  const install: SimulatedInstall = {
    ctx,
    kubelets,
    kubelet(name) {
      const k = byName.get(name);
      if (!k) throw new Error(`no simulated worker named ${name}`);
      return k;
    },
    controlPlaneNodes,
    operators,
    registry,
    get clusterVersion() {
      return clusterVersion;
    },
    pools,
    adversary: new Adversary(ctx),
    csrWatch,
    log: ctx.log,
    events: ctx.log.entries,
    async whenReady(names = booting, timeoutMs) {
      const all = Promise.all(names.map((n) => install.kubelet(n).whenReady()));
      if (timeoutMs === undefined) return void (await all);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const waiting = names.map((n) => install.kubelet(n)).filter((k) => k.phase !== 'ready');
          reject(new Error(`workers not Ready within ${timeoutMs} ms: ${waiting.map((k) => `${k.name} (${k.phase}, live CSR ${k.liveCsr ?? '-'})`).join(', ')}`));
        }, timeoutMs);
      });
      try {
        await Promise.race([all, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    cpuMs: () => ctx.meter.ms,
    async stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      for (const k of kubelets) k.stop();
      for (const o of operators) o.stop();
      clusterVersion?.stop();
      await Promise.all([registry?.stop(), csrWatch.stop(), ...pools.map((p) => p.stop())]);
    },
  };

  try {
    await csrWatch.start();
    await Promise.all(controlPlaneNodes.map((name, i) => readyNode(ctx, name, `10.0.0.${10 + i}`)));
    if (opts.operators?.converging) {
      const { names, ...window } = opts.operators.converging;
      operators.push(...convergingOperators(ctx, names.filter((n) => n !== 'image-registry' || !registry), window));
    }
    for (const [name, steps] of Object.entries(opts.operators?.scripted ?? {})) operators.push(scriptOperator(ctx, name, steps));
    await registry?.start();
    if (opts.clusterVersion !== false) {
      const release = cp.leg === 'oldest' ? '4.16' : '4.21';
      clusterVersion = simulateClusterVersion(ctx, { release, ...(opts.clusterVersion ?? { steps: [{ atMs: 0, available: 'True', progressing: 'False', failing: 'False', completed: true }] }) });
      await clusterVersion.started;
    }
    await Promise.all(pools.map((p) => p.start()));

    const immediate: Promise<void>[] = [];
    for (const w of workers) {
      const kubelet = install.kubelet(w.name);
      if (w.neverBoots) continue;
      if (w.bootAfter) {
        // A gate that fails is the test's to report (the machine then never boots); a kubelet's
        // own failure is recorded in kubelet.error and the event log.
        w.bootAfter().then(async () => {
          if (!stopped) await kubelet.start();
        }).catch(() => {});
        continue;
      }
      if (!w.startAfterMs) {
        immediate.push(kubelet.start());
        continue;
      }
      const t = setTimeout(() => {
        timers.delete(t);
        kubelet.start().catch(() => {}); // recorded in kubelet.error and the event log
      }, w.startAfterMs);
      timers.add(t);
    }
    // every machine that boots now has filed its live client CSR when startInstall resolves
    await Promise.all(immediate);
  } catch (e) {
    await install.stop();
    throw e;
  }
  return install;
}

async function readyNode(ctx: SimContext, name: string, address: string): Promise<void> {
  const labels = {
    'kubernetes.io/hostname': name,
    'kubernetes.io/os': 'linux',
    'node-role.kubernetes.io/master': '',
    'node-role.kubernetes.io/control-plane': '',
  };
  await call(ctx, 'POST', PATHS.nodes, { body: { apiVersion: 'v1', kind: 'Node', metadata: { name, labels } } }).catch((e) => {
    if (!isStatus(e, 409)) throw e;
  });
  const now = k8sTime();
  await call(ctx, 'PATCH', `${objectPath(PATHS.nodes, name)}/status`, {
    body: {
      status: {
        addresses: [{ type: 'InternalIP', address }, { type: 'Hostname', address: name }],
        conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now, lastTransitionTime: now }],
      },
    },
    contentType: 'application/merge-patch+json',
  });
}
