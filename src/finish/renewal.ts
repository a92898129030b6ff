// The renewal service (CLI --watch): the same approver and policy, for as long as it runs. Nodes
// of UPI clusters renew their serving certificates every few months and nothing else approves
// them (no Machine API, so no machine approver).
import { CsrApprover } from '../approver/approver.ts';
import { tagged } from '../log.ts';
import type { ServiceMonitor } from '../service/monitor.ts';
import type { Settings } from '../settings/settings.ts';
import type { RunContext } from './context.ts';
import { readNetworkBounds } from './networks.ts';
import { checkPermissions } from './permissions.ts';

export interface RenewalOptions {
  /** Re-reads the inventory (undefined: unchanged). */
  readonly reloadNodes?: () => Settings['nodes'] | undefined;
  /** The metrics and health endpoint to report to. */
  readonly monitor?: ServiceMonitor;
}

/** Approves, with the same policy, the requests of the listed machines until `context.signal` aborts. */
export async function keepApproving(settings: Settings, context: RunContext, options: RenewalOptions = {}): Promise<void> {
  const onlyApproval = { ...settings, waitForOperators: false, registry: { ...settings.registry, storage: 'keep' as const } };
  // The nodes file may list a machine without addresses later: the bounds are read in any case.
  const networks = await context.group('Preflight: permissions and networks', async () => {
    await checkPermissions(onlyApproval, context.gateway, context.log, true);
    return readNetworkBounds(settings, context);
  });
  const log = tagged(context.log, 'watch');
  const { monitor } = options;
  const approver = new CsrApprover(context.gateway, { expected: settings.nodes, dryRun: settings.dryRun, pollIntervalMs: settings.pollIntervalMs, log, retainHistory: false, networks, maxExpirationSeconds: settings.maxRequestedSeconds, ...(monitor ? { events: monitor.events } : {}) });
  monitor?.attach(approver, settings.pollIntervalMs);
  await approver.start();
  context.progress.attach({ approver });
  log.info(`approving the requests of ${settings.nodes.length} listed machines until stopped`);
  const reload = setInterval(() => {
    const nodes = options.reloadNodes?.();
    if (nodes) approver.updateExpected(nodes);
  }, Math.min(settings.pollIntervalMs, 1000));
  await aborted(context.signal);
  clearInterval(reload);
  await approver.settled().catch(() => undefined);
  approver.stop();
}

function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
