// Approvals the policy allowed that the API server would not take: a 403 after a role change, a
// 422 from an admission webhook, 409s past the retries, no answer. Per CSR a failure streak with
// an exponential backoff, so that a failing approval is neither sent nor logged every second, and
// the --watch health can say how long a valid request has been failing. Pure: the clock is passed.
import type { Phase } from '../identity/policy.ts';

/** How soon a failed approval is tried again: `initialMs` after the first failure, doubling up to `maxMs`. */
export interface Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
}

/** The wait after `failures` failures in a row (1 or more). */
export function backoffMs(failures: number, backoff: Backoff): number {
  return Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(Math.max(failures, 1) - 1, 30));
}

/**
 * The approver's backoff for a poll interval: the first retry after a second (sooner with a
 * shorter interval, as before), then doubling up to three poll intervals, at most a minute: a
 * restored permission is used within that, and a hundred failing requests cost a few calls a
 * second at most.
 */
export function approvalBackoff(pollIntervalMs: number): Backoff {
  const initialMs = Math.min(1000, pollIntervalMs);
  return { initialMs, maxMs: Math.max(initialMs, Math.min(60_000, 3 * pollIntervalMs)) };
}

export interface FailingApproval {
  readonly name: string;
  readonly uid: string;
  readonly node: string;
  readonly phase: Phase;
  /** When the streak's first failure happened (epoch ms). */
  readonly since: number;
  readonly failures: number;
  /** The HTTP status of the last failure, or 'none' when no answer came (a metric label). */
  readonly code: string;
  /** The last failure in a few words ('HTTP 403 Forbidden'): no text of the request's own. */
  readonly reason: string;
  /** When the next attempt is due. */
  readonly retryAt: number;
}

/** The current failure streak of each CSR whose approval is failing; a streak ends with the approval, or when the request is no longer one to approve. */
export class ApprovalFailures {
  private readonly streaks = new Map<string, FailingApproval>();
  private readonly backoff: Backoff;

  constructor(backoff: Backoff) {
    this.backoff = backoff;
  }

  /** Records a failure; `first`: it starts a streak (the one to log). */
  failed(csr: { readonly name: string; readonly uid: string }, what: { readonly node: string; readonly phase: Phase }, failure: { readonly code: string; readonly reason: string }, now: number): { streak: FailingApproval; first: boolean } {
    const before = this.streaks.get(csr.name);
    const ongoing = before?.uid === csr.uid ? before : undefined;
    const failures = (ongoing?.failures ?? 0) + 1;
    const streak: FailingApproval = { name: csr.name, uid: csr.uid, node: what.node, phase: what.phase, since: ongoing?.since ?? now, failures, ...failure, retryAt: now + backoffMs(failures, this.backoff) };
    this.streaks.set(csr.name, streak);
    return { streak, first: ongoing === undefined };
  }

  /** How long until this request may be sent again (0: now). */
  waitMs(csr: { readonly name: string; readonly uid: string }, now: number): number {
    const streak = this.streaks.get(csr.name);
    return streak?.uid === csr.uid ? Math.max(0, streak.retryAt - now) : 0;
  }

  /** Ends the streak of `name` (approved, gone, decided by someone else, no longer allowed); the streak that ended, if any. */
  end(name: string): FailingApproval | undefined {
    const streak = this.streaks.get(name);
    this.streaks.delete(name);
    return streak;
  }

  all(): FailingApproval[] {
    return [...this.streaks.values()];
  }
}
