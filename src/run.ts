import { ClusterGateway } from './cluster/gateway.ts';
import { loadKubeConfig } from './cluster/kubeconfig.ts';
import { DeadlineError, finishInstall, type RunContext } from './finish.ts';
import { keepApproving } from './renewal.ts';
import { oneLine, singleLineLog, type Log } from './log.ts';
import { writeDiagnostics } from './report/diagnostics.ts';
import { newReport, type RunReport } from './report/report.ts';
import type { ServiceMonitor } from './service/monitor.ts';
import { parseSettings, type InputReader, type Settings } from './settings/settings.ts';

export interface ShellHooks {
  readonly log: Log;
  readonly group: RunContext['group'];
  readonly signal: AbortSignal;
  /** Masks a value in everything printed from now on. */
  readonly registerSecret: (value: string) => void;
  /** The report object the run fills in, so a shell can show live progress. */
  readonly report?: RunReport;
  /** Where to write diagnostics when the run does not succeed (none when undefined). */
  readonly diagnosticsDir?: string;
  /** Extra diagnostics collection (oc adm inspect), given the kubeconfig the run used; stop when `signal` aborts. */
  readonly inspect?: (operators: string[], dir: string, kubeconfig: string, signal: AbortSignal) => Promise<void>;
}

export interface RunOptions {
  /** Keep approving until the signal aborts, instead of finishing the install. */
  readonly watch?: boolean;
  /** In watch mode, re-read the inventory (undefined: unchanged). */
  readonly reloadNodes?: () => Settings['nodes'] | undefined;
  /** In watch mode, the metrics and health endpoint to report to. */
  readonly monitor?: ServiceMonitor;
}

/**
 * What every entry point does, whatever its shell: validate the inputs, load the kubeconfig, run
 * the runbook, and classify the outcome. Never throws: the report says what happened.
 */
export async function execute(read: InputReader, shell: ShellHooks, options: RunOptions = {}): Promise<{ report: RunReport; settings: Settings | undefined }> {
  const hooks = { ...shell, log: singleLineLog(shell.log) };
  const report = hooks.report ?? newReport(Date.now(), false);
  let settings: Settings | undefined;
  let gateway: ClusterGateway | undefined;
  let kubeconfigText = '';
  try {
    if (read('kubeconfig').trim()) hooks.registerSecret(read('kubeconfig').trim());
    settings = parseSettings(read);
    report.dryRun = settings.dryRun;
    const kubeconfig = loadKubeConfig(settings.kubeconfig, settings.context);
    for (const secret of kubeconfig.secrets) hooks.registerSecret(secret);
    kubeconfigText = kubeconfig.config.exportConfig();
    gateway = new ClusterGateway(kubeconfig.config, { log: hooks.log, signal: hooks.signal, ...(kubeconfig.tokenFile ? { tokenFile: kubeconfig.tokenFile } : {}) });
    const proxy = gateway.describeProxy();
    hooks.log.info(`cluster ${gateway.server}${proxy ? ` ${proxy}` : ''} (kubeconfig from ${kubeconfig.source})${settings.dryRun ? ', dry-run: nothing will be written' : ''}`);
    const context = { gateway, log: hooks.log, group: hooks.group, signal: hooks.signal };
    if (options.watch) {
      await keepApproving(settings, report, { ...context, ...(options.reloadNodes ? { reloadNodes: options.reloadNodes } : {}), ...(options.monitor ? { monitor: options.monitor } : {}) });
    } else {
      await finishInstall(settings, report, context);
    }
    report.result = 'success';
  } catch (error) {
    report.result = error instanceof DeadlineError ? 'timeout' : 'error';
    report.failure = oneLine(error instanceof Error ? error.message : String(error));
  }
  if (report.result !== 'success' && gateway && hooks.diagnosticsDir) {
    const cluster = gateway;
    const inspect = hooks.inspect;
    report.diagnosticsPath = await writeDiagnostics(
      hooks.diagnosticsDir,
      report,
      {
        nodeEvents: (node, limits) => cluster.nodeEvents(node, { ...limits, forbiddenIsFinal: true }),
        ...(inspect ? { inspect: (operators: string[], dir: string, signal: AbortSignal) => inspect(operators, dir, kubeconfigText, signal) } : {}),
      },
      hooks.log,
    ).catch((error: unknown) => {
      hooks.log.warning(`could not write diagnostics: ${(error as Error).message}`);
      return '';
    });
  }
  report.finishedAt = Date.now();
  return { report, settings };
}
