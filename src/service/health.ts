// The renewal service's health verdict (/healthz, the healthy gauge). Pure: what the approver
// reports and a clock in, a verdict with its reason out. Healthy means doing the job: connected,
// and the approvals the policy allows going through.
import type { FailingApproval } from '../approver/failures.ts';
import type { InformerStats } from '../cluster/informer.ts';

export interface Health {
  readonly ok: boolean;
  readonly text: string;
}

/**
 * How long an approval the policy allows may keep failing before /healthz answers 503 (the CLI's
 * --approval-failure-grace). A few minutes: a role being re-applied or an admission webhook
 * restarting passes within it; certificates expire over hours, not minutes.
 */
export const DEFAULT_APPROVAL_FAILURE_GRACE_MS = 5 * 60_000;

/** Failing approvals named in the verdict; the rest are counted. */
const NAMED = 3;

/**
 * Healthy once every informer has listed, as long as each of them has had a successful list or
 * a watch event (bookmarks count) within three poll intervals (the periodic re-list runs every
 * poll interval, so three missed in a row mean the API server is out of reach), and as long as
 * no approval the policy allows has been failing for longer than `approvalGraceMs`.
 */
export function healthOf(informers: readonly InformerStats[], now: number, pollIntervalMs: number, failing: readonly FailingApproval[] = [], approvalGraceMs = DEFAULT_APPROVAL_FAILURE_GRACE_MS): Health {
  if (informers.length === 0) return { ok: false, text: 'starting: the informers have not been started yet' };
  const unsynced = informers.filter((i) => !i.synced).map((i) => i.kind);
  if (unsynced.length > 0) return { ok: false, text: `starting: no successful list of ${unsynced.join(', ')} yet` };
  const limit = 3 * pollIntervalMs;
  const stale = informers
    .map((i) => ({ kind: i.kind, age: now - Math.max(i.lastListAt, i.lastEventAt) }))
    .filter((i) => i.age > limit)
    .map((i) => `${i.kind} (${Math.round(i.age / 1000)} s)`);
  if (stale.length > 0) return { ok: false, text: `no successful list or watch event for more than ${Math.round(limit / 1000)} s: ${stale.join(', ')}` };
  const overdue = failing.filter((f) => now - f.since > approvalGraceMs).sort((a, b) => a.since - b.since);
  if (overdue.length > 0) {
    // Node names come from the inventory and reasons are status codes: no text of a request's own.
    const named = overdue.slice(0, NAMED).map((f) => `${f.phase} CSR of ${f.node} for ${Math.round((now - f.since) / 1000)} s (${f.reason}, ${f.failures} attempts)`);
    const more = overdue.length > NAMED ? `, and ${overdue.length - NAMED} more` : '';
    return { ok: false, text: `approvals failing for more than ${Math.round(approvalGraceMs / 1000)} s: ${named.join('; ')}${more}` };
  }
  return { ok: true, text: 'ok' };
}
