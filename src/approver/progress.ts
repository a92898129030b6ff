import type { Csr, NodeInfo } from '../cluster/objects.ts';
import { CLIENT_SIGNER, SERVING_SIGNER } from '../identity/policy.ts';
import type { RefusedCsr } from './ledger.ts';

/** How far a listed node has come, derived from its Node and its CSRs (pure). */
export interface Progress {
  readonly name: string;
  readonly registered: boolean;
  readonly ready: boolean;
  readonly clientApproved: boolean;
  readonly servingIssued: boolean;
  /** Ready before this run started: it joined earlier and needs no new serving certificate. */
  readonly readyAtStart: boolean;
}

export type Step = 'registered' | 'serving issued' | 'ready' | 'not ready';

export function initialProgress(name: string, readyAtStart = false): Progress {
  return { name, registered: false, ready: false, clientApproved: false, servingIssued: false, readyAtStart };
}

/**
 * The node's progress now. What was reached stays reached: the cluster garbage-collects an
 * approved CSR after an hour, and a node does not lose its certificate with it.
 */
export function progressOf(before: Progress, node: NodeInfo | undefined, csrs: Iterable<Csr>): Progress {
  let clientApproved = before.clientApproved || node !== undefined;
  let servingIssued = before.servingIssued;
  for (const csr of csrs) {
    if (csr.state !== 'approved') continue;
    if (csr.signerName === CLIENT_SIGNER) clientApproved = true;
    else if (csr.signerName === SERVING_SIGNER && csr.issued) servingIssued = true;
  }
  return { ...before, registered: node !== undefined, ready: node?.ready ?? false, clientApproved, servingIssued };
}

/** Ready with its serving certificate (or Ready before the run: nothing to wait for). */
export function isDone(p: Progress): boolean {
  return p.ready && (p.servingIssued || p.readyAtStart);
}

/** The steps a node took (or, 'not ready', lost) between two observations, in order. */
export function stepsBetween(before: Progress, after: Progress): Step[] {
  const steps: Step[] = [];
  if (after.registered && !before.registered) steps.push('registered');
  if (after.servingIssued && !before.servingIssued) steps.push('serving issued');
  if (after.ready && !before.ready) steps.push('ready');
  if (!after.ready && before.ready) steps.push('not ready');
  return steps;
}

/** What an unfinished node still lacks, in words, from its CSRs and the refusals of its requests. */
export function lacks(p: Progress, csrs: readonly Csr[], refusals: readonly RefusedCsr[]): string {
  const mine = (signer: string) => csrs.filter((c) => c.signerName === signer);
  const refusal = (signer: string) => refusals.find((r) => r.signer === signer);
  if (!p.registered) {
    const clients = mine(CLIENT_SIGNER);
    if (clients.some((c) => c.state === 'approved' && c.issued)) return 'client certificate issued, Node not registered';
    if (clients.some((c) => c.state === 'approved')) return 'client CSR approved but no certificate issued (is the cluster signer running?)';
    const refused = refusal(CLIENT_SIGNER);
    if (refused) return `client CSR ${refused.name} refused: ${refused.reason}`;
    return 'no client CSR seen (machine not booted, or cannot reach the API server)';
  }
  if (!p.servingIssued && !p.readyAtStart) {
    const serving = mine(SERVING_SIGNER);
    if (serving.some((c) => c.state === 'approved')) return 'serving CSR approved but no certificate issued';
    const refused = refusal(SERVING_SIGNER);
    if (refused) return `serving CSR ${refused.name} refused: ${refused.reason}`;
    return 'no serving CSR seen';
  }
  return 'not Ready';
}
