// Phase: the listed machines join. The approver (started here, stopped by the runbook at the end:
// late kubelets and renewals are served while the later phases run) approves their CSRs; this
// waits until every listed node is Ready with its serving certificate.
import type { CsrApprover } from '../approver/approver.ts';
import { DeadlineError } from '../errors.ts';
import { formatDuration } from '../settings/duration.ts';
import type { Settings } from '../settings/settings.ts';
import type { RunContext } from './context.ts';

export interface NodesResult {
  /** `stopped`: the run was stopped (another gate failed, or cancelled) before the nodes were done. */
  readonly outcome: 'ready' | 'none-listed' | 'dry-run' | 'stopped';
}

/** Throws a DeadlineError naming what each node still lacks at nodes-timeout. */
export async function approveNodes(settings: Settings, approver: CsrApprover | undefined, context: Pick<RunContext, 'log' | 'signal'>): Promise<NodesResult> {
  const { log } = context;
  log.info(`approving the node certificates of ${settings.nodes.map((n) => n.name).join(', ') || 'no listed node'}`);
  if (!approver) {
    log.info('no nodes listed: no CSR is approved and node readiness is not awaited');
    return { outcome: 'none-listed' };
  }
  await approver.start();
  if (settings.dryRun) {
    await approver.settled();
    return { outcome: 'dry-run' };
  }
  const ready = await approver.waitForNodes(Date.now() + settings.nodesTimeoutMs);
  if (!ready) {
    if (context.signal.aborted) return { outcome: 'stopped' };
    const lacking = approver.missing().map((m) => `${m.node} (${m.lacks})`);
    throw new DeadlineError(`Nodes not Ready with serving certificates after ${formatDuration(settings.nodesTimeoutMs)}: ${lacking.join(', ')}.`);
  }
  log.info(`all ${settings.nodes.length} listed nodes are Ready with serving certificates`);
  return { outcome: 'ready' };
}
