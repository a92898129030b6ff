import { ClusterGateway } from '../cluster/gateway.ts';
import { loadKubeConfig } from '../cluster/kubeconfig.ts';
import { DeadlineError } from '../errors.ts';
import { RunProgress } from '../finish/progress.ts';
import { keepApproving, type RenewalOptions } from '../finish/renewal.ts';
import { finishInstall, RunbookFailure } from '../finish/runbook.ts';
import type { Log } from '../log.ts';
import { writeDiagnostics, writeFullLists } from '../report/diagnostics.ts';
import { failureLine } from '../report/failure.ts';
import { listsCut, newReport, type Result, type RunReport } from '../report/report.ts';
import { actionInputName, InputError, parseSettings, type InputNaming, type InputReader, type Settings } from '../settings/settings.ts';

export interface ShellHooks {
  readonly log: Log;
  readonly group: <T>(title: string, fn: () => Promise<T>) => Promise<T>;
  readonly signal: AbortSignal;
  /** Masks a value in everything printed from now on. */
  readonly registerSecret: (value: string) => void;
  /** How messages name an input (default: the action's `Input 'x'`). */
  readonly inputNaming?: InputNaming;
  /** Given at the start: reads the report as it is now, as often as the shell likes (live progress). */
  readonly onProgress?: (current: () => RunReport) => void;
  /** Where to write diagnostics when the run does not succeed (none when undefined). */
  readonly diagnosticsDir?: string;
  /** Extra diagnostics collection (oc adm inspect), given the kubeconfig the run used; stop when `signal` aborts. */
  readonly inspect?: (operators: string[], dir: string, kubeconfig: string, signal: AbortSignal) => Promise<void>;
}

export interface RunOptions extends RenewalOptions {
  /** Keep approving until the signal aborts, instead of finishing the install. */
  readonly watch?: boolean;
  /** The one kubeconfig file to load when the kubeconfig input is empty (instead of KUBECONFIG and ~/.kube/config, as kubectl --kubeconfig). */
  readonly kubeconfigFile?: string;
}

/**
 * What every entry point does, whatever its shell: validate the inputs, load the kubeconfig, run
 * the runbook (or the renewal service), and classify the outcome. Never throws: the report says
 * what happened.
 */
export async function execute(read: InputReader, shell: ShellHooks, options: RunOptions = {}): Promise<{ report: RunReport; settings: Settings | undefined }> {
  const log = shell.log;
  const startedAt = Date.now();
  const progress = new RunProgress();
  let settings: Settings | undefined;
  const reportNow = (final: boolean): RunReport => ({ ...newReport(startedAt, settings?.dryRun ?? false), ...progress.findings(final) });
  shell.onProgress?.(() => reportNow(false));
  let gateway: ClusterGateway | undefined;
  let kubeconfigText = '';
  let outcome: { result: Result; failure: string } = { result: 'success', failure: '' };
  try {
    if (read('kubeconfig').trim()) shell.registerSecret(read('kubeconfig').trim());
    settings = parseSettings(read);
    const kubeconfig = loadKubeConfig(settings.kubeconfig, settings.context, process.env, options.kubeconfigFile);
    for (const secret of kubeconfig.secrets) shell.registerSecret(secret);
    for (const warning of kubeconfig.warnings) log.warning(warning);
    kubeconfigText = kubeconfig.config.exportConfig();
    const { tokenFile, impersonate } = kubeconfig;
    gateway = new ClusterGateway(kubeconfig.config, { log, signal: shell.signal, ...(tokenFile ? { tokenFile } : {}), ...(impersonate ? { impersonate } : {}) });
    const proxy = gateway.describeProxy();
    log.info(`cluster ${gateway.server}${proxy ? ` ${proxy}` : ''} (kubeconfig from ${kubeconfig.source})${settings.dryRun ? ', dry-run: nothing will be written' : ''}`);
    const context = { gateway, log, group: shell.group, signal: shell.signal, progress };
    await (options.watch ? keepApproving(settings, context, options) : finishInstall(settings, context));
  } catch (error) {
    outcome = failureOf(error, shell.inputNaming ?? actionInputName);
  }
  let report: RunReport = { ...reportNow(true), ...outcome };
  if (report.result !== 'success' && gateway && shell.diagnosticsDir) {
    const cluster = gateway;
    const inspect = shell.inspect;
    const diagnosticsPath = await writeDiagnostics(
      shell.diagnosticsDir,
      report,
      {
        nodeEvents: (node, limits) => cluster.nodeEvents(node, { ...limits, forbiddenIsFinal: true }),
        ...(inspect ? { inspect: (operators: string[], dir: string, signal: AbortSignal) => inspect(operators, dir, kubeconfigText, signal) } : {}),
      },
      log,
    ).catch((error: unknown) => {
      log.warning(`could not write diagnostics: ${(error as Error).message}`);
      return '';
    });
    report = { ...report, diagnosticsPath };
  } else if (shell.diagnosticsDir && listsCut(report)) {
    report = { ...report, diagnosticsPath: writeFullLists(shell.diagnosticsDir, report, log) };
  }
  return { report: { ...report, finishedAt: Date.now() }, settings };
}

/** The result and the one-line failure of a run that threw: a deadline is a timeout, anything else an error. */
function failureOf(error: unknown, naming: InputNaming): { result: Result; failure: string } {
  const first = error instanceof RunbookFailure ? error.first : error;
  const text = first instanceof InputError ? first.named(naming) : first instanceof Error ? first.message : String(first);
  const line = error instanceof RunbookFailure ? failureLine(text, error.gate, error.outstanding) : text;
  return { result: first instanceof DeadlineError ? 'timeout' : 'error', failure: line };
}
