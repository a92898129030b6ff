// The fleet's serving renewals at scaled-down lifetimes: each listed machine files a new serving
// CSR about once a period (jittered), as its kubelet's certificate manager would near expiry, and
// the soak times each one from filing to the first Approved condition it reads back.
/* eslint-disable @typescript-eslint/no-explicit-any */
import { buildCsr } from '../../test/sim/csr-builder.ts';
import { call, CSR_PATH, csrObject, nodeIdentity, SIGNER, USAGES, type SimContext } from '../../test/sim/common.ts';

export interface Renewal {
  name: string;
  /** what tells this request from a later one given the same generated name */
  uid: string;
  node: string;
  /** epoch ms when the create answered (the CSR exists from then on) */
  filedAt: number;
  approvedAt?: number;
  /** a probe filed right at the end of a fault, to time the recovery */
  probe?: string;
}

export interface Machine { name: string; ip: string }

export class Renewals {
  readonly filed: Renewal[] = [];
  readonly errors: string[] = [];
  readonly #ctx: SimContext;
  readonly #periodMs: number;
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #random: () => number;
  #stopped = false;

  constructor(ctx: SimContext, periodMs: number, random: () => number) {
    this.#ctx = ctx;
    this.#periodMs = periodMs;
    this.#random = random;
  }

  /** Starts renewing for a machine (first renewal at a random point of the first period). */
  start(machine: Machine): void {
    if (this.#stopped || this.#timers.has(machine.name)) return;
    const schedule = (delay: number) => {
      this.#timers.set(machine.name, setTimeout(() => {
        void this.file(machine).catch(() => undefined);
        schedule(this.#periodMs * (0.8 + 0.4 * this.#random()));
      }, delay));
    };
    schedule(this.#periodMs * this.#random());
  }

  /** Stops renewing for a machine; renewals already filed stay counted. */
  halt(name: string): void {
    clearTimeout(this.#timers.get(name));
    this.#timers.delete(name);
  }

  stopAll(): void {
    this.#stopped = true;
    for (const name of [...this.#timers.keys()]) this.halt(name);
  }

  /** Files one serving renewal for the machine's own name and address. */
  async file(machine: Machine, probe?: string): Promise<Renewal> {
    const { pem } = buildCsr({ commonName: `system:node:${machine.name}`, organizations: ['system:nodes'], dnsNames: [machine.name], ipAddresses: [machine.ip] });
    try {
      const created = await call<any>(this.#ctx, 'POST', CSR_PATH, { body: csrObject(pem, SIGNER.kubeletServing, USAGES.serving), impersonate: nodeIdentity(machine.name) });
      const renewal: Renewal = { name: created.metadata.name, uid: created.metadata.uid, node: machine.name, filedAt: Date.now(), ...(probe ? { probe } : {}) };
      this.filed.push(renewal);
      return renewal;
    } catch (error) {
      this.errors.push(`${new Date().toISOString()} renewal for ${machine.name} not filed: ${(error as Error).message}`);
      throw error;
    }
  }

  /** Renewals not approved yet. */
  outstanding(): Renewal[] {
    return this.filed.filter((r) => r.approvedAt === undefined);
  }
}

/** The first Approved condition of each CSR, by uid, from a watch (or a list) the soak keeps. */
export function noteApprovals(renewals: Iterable<Renewal>, approvedAt: ReadonlyMap<string, number>): void {
  for (const r of renewals) {
    if (r.approvedAt !== undefined) continue;
    const at = approvedAt.get(r.uid);
    if (at !== undefined) r.approvedAt = Math.max(at, r.filedAt);
  }
}
