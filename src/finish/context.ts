import type { ClusterGateway } from '../cluster/gateway.ts';
import type { Log } from '../log.ts';
import type { RunProgress } from './progress.ts';

/** What every phase is given: the cluster, where to log, when to stop, and where to tell what it learns. */
export interface RunContext {
  readonly gateway: ClusterGateway;
  readonly log: Log;
  /** A log group, for a step that runs alone (GitHub log groups cannot overlap or nest). */
  readonly group: <T>(title: string, fn: () => Promise<T>) => Promise<T>;
  readonly signal: AbortSignal;
  /** The observations the report is assembled from; emitted as they are made, so a failure reports them. */
  readonly progress: RunProgress;
}
