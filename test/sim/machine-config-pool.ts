// The machine-config operator's view of one MachineConfigPool (DOMAIN 7b): it counts the Nodes
// that carry the pool's role label, and a Node counts as updated and ready `rolloutMs` after it
// turned Ready (the time its MachineConfig takes to apply). The pool is Updated once every
// machine is; `degraded` scripts a Degraded pool.
/* eslint-disable @typescript-eslint/no-explicit-any */
import { objectPath, PATHS } from '../../src/cluster/paths.ts';
import { call, isStatus, withTransitionTimes } from './common.ts';
import type { Condition, SimContext } from './common.ts';
import { Informer } from './informer.ts';


export interface PoolOptions {
  /** default `worker`: Nodes labelled node-role.kubernetes.io/<name> */
  name?: string;
  /** how long after a Node is Ready it runs the pool's configuration; default 1000 ms */
  rolloutMs?: number;
  /** Degraded=True with this message (the pool never becomes Updated) */
  degraded?: string;
}

export class MachineConfigPoolOperator {
  readonly name: string;
  readonly #ctx: SimContext;
  readonly #opts: PoolOptions;
  readonly #readySince = new Map<string, number>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #informer: Informer | undefined;
  #conditions: Condition[] = [];
  #last = '';
  #writing: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(ctx: SimContext, opts: PoolOptions = {}) {
    this.#ctx = ctx;
    this.#opts = opts;
    this.name = opts.name ?? 'worker';
  }

  async start(): Promise<void> {
    await call(this.#ctx, 'POST', PATHS.machineConfigPools, {
      body: {
        apiVersion: 'machineconfiguration.openshift.io/v1',
        kind: 'MachineConfigPool',
        metadata: { name: this.name },
        spec: {
          machineConfigSelector: { matchLabels: { 'machineconfiguration.openshift.io/role': this.name } },
          nodeSelector: { matchLabels: { [`node-role.kubernetes.io/${this.name}`]: '' } },
        },
      },
    }).catch((e) => {
      if (!isStatus(e, 409)) throw e;
    });
    this.#informer = new Informer(this.#ctx, `${PATHS.nodes}?labelSelector=node-role.kubernetes.io%2F${this.name}`, (type, node) => this.#onNode(type, node));
    await this.#informer.start();
    this.#publish();
    // Its first status is written when start() resolves (and so when startInstall does): a test
    // that looks at the cluster after the install started sees the pool as published.
    await this.#writing;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const t of this.#timers) clearTimeout(t);
    await this.#informer?.stop();
    await this.#writing.catch(() => {});
  }

  #onNode(type: string, node: any): void {
    const name: string = node.metadata.name;
    const ready = node.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True');
    if (type === 'DELETED') this.#readySince.delete(name);
    else if (!this.#readySince.has(name)) this.#readySince.set(name, ready ? Date.now() : Infinity);
    else if (ready && this.#readySince.get(name) === Infinity) this.#readySince.set(name, Date.now());
    const at = this.#readySince.get(name);
    if (at !== undefined && at !== Infinity) {
      const t = setTimeout(() => {
        this.#timers.delete(t);
        this.#publish();
      }, Math.max(0, at + (this.#opts.rolloutMs ?? 1000) - Date.now()) + 5);
      this.#timers.add(t);
    }
    this.#publish();
  }

  #publish(): void {
    if (this.#stopped) return;
    const now = Date.now();
    const machineCount = this.#readySince.size;
    const updated = [...this.#readySince.values()].filter((at) => at + (this.#opts.rolloutMs ?? 1000) <= now).length;
    const degraded = this.#opts.degraded;
    const done = !degraded && updated === machineCount;
    const next = withTransitionTimes([
      { type: 'Updated', status: done ? 'True' : 'False', reason: '', message: done ? `All nodes are updated with rendered-${this.name}-sim` : '' },
      { type: 'Updating', status: done || degraded ? 'False' : 'True', reason: '', message: done ? '' : `${updated} of ${machineCount} machines updated` },
      { type: 'Degraded', status: degraded ? 'True' : 'False', reason: degraded ? 'NodeDegraded' : '', message: degraded ?? '' },
      { type: 'NodeDegraded', status: degraded ? 'True' : 'False', reason: '', message: degraded ?? '' },
      { type: 'RenderDegraded', status: 'False', reason: '', message: '' },
    ], this.#conditions);
    const status = {
      machineCount, updatedMachineCount: degraded ? 0 : updated, readyMachineCount: degraded ? 0 : updated,
      unavailableMachineCount: degraded ? machineCount : machineCount - updated, degradedMachineCount: degraded ? machineCount : 0,
      conditions: next,
    };
    const key = JSON.stringify({ ...status, conditions: next.map((c) => [c.type, c.status, c.message]) });
    if (key === this.#last) return;
    this.#last = key;
    this.#conditions = next;
    this.#writing = this.#writing.then(async () => {
      if (this.#stopped) return;
      const pool = await call<any>(this.#ctx, 'GET', objectPath(PATHS.machineConfigPools, this.name));
      await call(this.#ctx, 'PATCH', `${objectPath(PATHS.machineConfigPools, this.name)}/status`, {
        body: { status: { ...status, observedGeneration: pool.metadata.generation } },
        contentType: 'application/merge-patch+json',
        stopped: () => this.#stopped,
      });
      this.#ctx.log.emit('pool-status', this.name, { detail: `${status.updatedMachineCount}/${machineCount} updated${done ? ', Updated' : ''}` });
    }).catch((e) => {
      if (!this.#stopped) this.#ctx.log.emit('error', this.name, { detail: (e as Error).message });
    });
  }
}
