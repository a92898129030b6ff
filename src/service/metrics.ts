// What the renewal service (--watch) tells Prometheus. Pure: a snapshot in, text out; the health
// verdict is health.ts, the HTTP server and the process figures live in monitor.ts.
import type { InformerStats } from '../cluster/informer.ts';
import type { Phase, ReasonCode } from '../identity/policy.ts';

/** Counted as they happen (the approver reports them); everything else is read at scrape time. */
export class ServiceCounters {
  readonly approvals = new Map<Phase, number>([
    ['client', 0],
    ['serving', 0],
  ]);
  readonly refusals = new Map<ReasonCode, number>();
  /** Approvals the server did not take, by HTTP status ('none': no answer). */
  readonly approvalFailures = new Map<string, number>();

  approved(phase: Phase): void {
    this.approvals.set(phase, (this.approvals.get(phase) ?? 0) + 1);
  }

  /** Called once per refused CSR (the approver does not report a CSR it already refused). */
  refused(reason: ReasonCode): void {
    this.refusals.set(reason, (this.refusals.get(reason) ?? 0) + 1);
  }

  approvalFailed(code: string): void {
    this.approvalFailures.set(code, (this.approvalFailures.get(code) ?? 0) + 1);
  }
}

export interface ServiceSnapshot {
  readonly counters: ServiceCounters;
  /** Pending kubelet CSRs (client or serving) whose node is listed; undefined before the first list. */
  readonly pendingListedCsrs: number | undefined;
  /** Requests the policy allows whose approval is failing now; undefined before the approver starts. */
  readonly failingApprovals?: number | undefined;
  readonly informers: readonly InformerStats[];
  readonly rssBytes: number;
  readonly eventLoopDelayP99Seconds: number;
  readonly eventLoopDelayMaxSeconds: number;
  readonly startedAt: number;
  readonly healthy: boolean;
}

const PREFIX = 'openshift_finish_install';

/** The Prometheus text exposition format (version 0.0.4). */
export function renderMetrics(s: ServiceSnapshot): string {
  const out: string[] = [];
  const family = (name: string, type: 'counter' | 'gauge', help: string, samples: Array<[Record<string, string>, number]>) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) out.push(`${name}${labelText(labels)} ${formatValue(value)}`);
  };
  family(`${PREFIX}_approvals_total`, 'counter', 'Kubelet CSRs approved by this process, by phase (client, serving).', [...s.counters.approvals].map(([phase, n]) => [{ phase }, n]));
  family(
    `${PREFIX}_refusals_total`,
    'counter',
    'Kubelet CSRs this process refused to approve, each counted once, by reason code (see docs/troubleshooting.md).',
    [...s.counters.refusals].sort(([a], [b]) => a.localeCompare(b)).map(([reason, n]) => [{ reason }, n]),
  );
  family(
    `${PREFIX}_approval_failures_total`,
    'counter',
    'Approvals of allowed kubelet CSRs the API server did not take, each attempt counted, by HTTP status (code="none": no answer).',
    [...s.counters.approvalFailures].sort(([a], [b]) => a.localeCompare(b)).map(([code, n]) => [{ code }, n]),
  );
  if (s.failingApprovals !== undefined) {
    family(`${PREFIX}_failing_approvals`, 'gauge', 'Allowed kubelet CSRs whose approval is failing now (retried with a backoff).', [[{}, s.failingApprovals]]);
  }
  if (s.pendingListedCsrs !== undefined) {
    family(`${PREFIX}_pending_csrs`, 'gauge', 'Pending kubelet CSRs (client and serving) of the listed machines.', [[{}, s.pendingListedCsrs]]);
  }
  family(
    `${PREFIX}_last_list_success_timestamp_seconds`,
    'gauge',
    'When the last list of each resource succeeded (unix seconds; 0: never).',
    s.informers.map((i) => [{ resource: i.kind }, i.lastListAt / 1000]),
  );
  family(
    `${PREFIX}_last_watch_event_timestamp_seconds`,
    'gauge',
    'When the watch of each resource last delivered an event or bookmark (unix seconds; 0: never).',
    s.informers.map((i) => [{ resource: i.kind }, i.lastEventAt / 1000]),
  );
  family(`${PREFIX}_watch_restarts_total`, 'counter', 'Watches that ended and were started again, by resource.', s.informers.map((i) => [{ resource: i.kind }, i.watchRestarts]));
  family(`${PREFIX}_informer_synced`, 'gauge', '1 once the first list of the resource succeeded.', s.informers.map((i) => [{ resource: i.kind }, i.synced ? 1 : 0]));
  family(`${PREFIX}_healthy`, 'gauge', '1 when /healthz answers 200.', [[{}, s.healthy ? 1 : 0]]);
  family('process_resident_memory_bytes', 'gauge', 'Resident memory size in bytes.', [[{}, s.rssBytes]]);
  family('process_start_time_seconds', 'gauge', 'Start time of the process since unix epoch in seconds.', [[{}, Math.floor(s.startedAt / 1000)]]);
  family('nodejs_eventloop_lag_p99_seconds', 'gauge', 'The 99th percentile of the event loop delay over the last minute.', [[{}, s.eventLoopDelayP99Seconds]]);
  family('nodejs_eventloop_lag_max_seconds', 'gauge', 'The largest event loop delay over the last minute.', [[{}, s.eventLoopDelayMaxSeconds]]);
  return `${out.join('\n')}\n`;
}

function labelText(labels: Record<string, string>): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  return `{${entries.map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')}"`).join(',')}}`;
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : '-Inf';
  return String(value);
}
