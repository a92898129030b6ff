import type { Informer } from '../cluster/informer.ts';
import type { NodeInfo } from '../cluster/objects.ts';
import type { Phase, ReasonCode } from '../identity/policy.ts';
import type { NetworkBounds } from '../identity/networks.ts';
import type { Log } from '../log.ts';
import type { ExpectedNode } from '../settings/settings.ts';

export interface ApproverOptions {
  readonly expected: readonly ExpectedNode[];
  readonly dryRun: boolean;
  readonly pollIntervalMs: number;
  readonly log: Log;
  /** Approvals in flight at once (default APPROVALS_IN_FLIGHT). */
  readonly concurrency?: number;
  /** Told of each approval, and of each refused CSR once (the --watch service's metrics). */
  readonly events?: ApproverEvents;
  /**
   * Keep every approval of the run for the output, also of CSRs the cluster has since deleted
   * (default). The --watch service lives for months: it forgets a deleted CSR entirely and keeps
   * only each node's latest time per timeline event.
   */
  readonly retainHistory?: boolean;
  /** A Node informer shared with another watcher: started here if it is not yet, never stopped here. */
  readonly nodes?: Informer<NodeInfo>;
  /** The cluster's networks, bounding machines listed without addresses (identity/policy.ts PolicyView). */
  readonly networks?: NetworkBounds | undefined;
  /** The longest certificate a request may ask for, in seconds (identity/policy.ts PolicyView). */
  readonly maxExpirationSeconds?: number | undefined;
}

/**
 * Approvals sent at once. In a burst the approval latency is the time a decided request waits
 * for a free slot: at a thousand machines 32 halved the client latency against 16, and 64 made
 * the server's own answer three times slower for little more (measured for BENCHMARKS.md).
 * The API server's priority-and-fairness queues what it cannot take, and a 429 is retried.
 */
export const APPROVALS_IN_FLIGHT = 32;

export interface ApproverEvents {
  approved(phase: Phase): void;
  refused(reason: ReasonCode): void;
  /** An approval the server did not take, by HTTP status ('none': no answer). */
  approvalFailed?(code: string): void;
}
