// The renewal service (CLI --watch): the same approver and policy, for as long as it runs.
import { CsrApprover } from './csr/approver.ts';
import type { RunContext } from './finish.ts';
import { tagged } from './log.ts';
import { checkPermissions } from './preflight.ts';
import { recordApprover, type RunReport } from './report/report.ts';
import type { ServiceMonitor } from './service/monitor.ts';
import type { Settings } from './settings/settings.ts';

/**
 * The renewal service: approve, with the same policy, the requests of the listed machines until
 * `signal` aborts. Nodes of UPI clusters renew their serving certificates every few months and
 * nothing else approves them (no Machine API, so no machine approver).
 */
export async function keepApproving(
  settings: Settings,
  report: RunReport,
  context: RunContext & { readonly reloadNodes?: () => Settings['nodes'] | undefined; readonly monitor?: ServiceMonitor },
): Promise<void> {
  await context.group('Preflight: permissions', () => checkPermissions({ ...settings, waitForOperators: false, registry: { ...settings.registry, storage: 'keep' } }, context.gateway, context.log));
  const log = tagged(context.log, 'watch');
  const approver = new CsrApprover(context.gateway, { expected: settings.nodes, dryRun: settings.dryRun, pollIntervalMs: settings.pollIntervalMs, log, retainHistory: false, ...(context.monitor ? { events: context.monitor.events } : {}) });
  context.monitor?.attach(approver, settings.pollIntervalMs);
  await approver.start();
  log.info(`approving the requests of ${settings.nodes.length} listed machines until stopped`);
  await new Promise<void>((resolve) => {
    const reload = setInterval(() => {
      const nodes = context.reloadNodes?.();
      if (nodes) approver.updateExpected(nodes);
      recordApprover(approver, report, false);
    }, Math.min(settings.pollIntervalMs, 1000));
    const stop = () => {
      clearInterval(reload);
      resolve();
    };
    if (context.signal.aborted) stop();
    context.signal.addEventListener('abort', stop);
  });
  await approver.settled().catch(() => undefined);
  approver.stop();
  recordApprover(approver, report, true);
}
