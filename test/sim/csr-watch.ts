// The one CSR watch of the simulator: dispatches each event to the kubelet that filed the CSR.
/* eslint-disable @typescript-eslint/no-explicit-any */
import { PATHS } from '../../src/cluster/paths.ts';
import type { SimContext } from './common.ts';
import { Informer } from './informer.ts';

export type CsrHandler = (csr: any) => void;

export class CsrWatch {
  readonly #handlers = new Map<string, CsrHandler>();
  /**
   * Latest state of every CSR seen. The watch can report a CSR before its creator has the
   * create response (and so its name) in hand; on() replays the cached state.
   */
  readonly #latest = new Map<string, any>();
  readonly #informer: Informer;

  constructor(ctx: SimContext) {
    this.#informer = new Informer(ctx, PATHS.csrs, (type, csr) => {
      const name: string = csr.metadata.name;
      if (type === 'DELETED') {
        this.#latest.delete(name);
        return;
      }
      this.#latest.set(name, csr);
      this.#handlers.get(name)?.(csr);
    });
  }

  start(): Promise<void> {
    return this.#informer.start();
  }

  stop(): Promise<void> {
    return this.#informer.stop();
  }

  on(name: string, handler: CsrHandler): void {
    this.#handlers.set(name, handler);
    const seen = this.#latest.get(name);
    if (seen) handler(seen);
  }

  off(name: string): void {
    this.#handlers.delete(name);
  }

  get(name: string): any {
    return this.#latest.get(name);
  }

  get restarts(): number {
    return this.#informer.restarts;
  }
}

export function csrCondition(csr: any, type: 'Approved' | 'Denied' | 'Failed'): { reason?: string; message?: string } | undefined {
  const conditions: Array<{ type: string; status?: string; reason?: string; message?: string }> = csr?.status?.conditions ?? [];
  return conditions.find((c) => c.type === type && c.status !== 'False');
}
