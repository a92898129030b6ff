// The CLI shell: the command line, then the same run as the action, then the outcome printed.
import { outputJson } from '../escape.ts';
import { toOutputs, type RunReport } from '../report/report.ts';
import { progressLine, renderText } from '../report/text.ts';
import { startMonitor, type ServiceMonitor } from '../service/monitor.ts';
import { parseDuration } from '../settings/duration.ts';
import { INPUTS, type InputName } from '../settings/inputs.ts';
import { publish } from '../shell/publish.ts';
import { execute } from '../shell/run.ts';
import { stopOnSignals } from '../shell/signals.ts';
import { VERSION } from '../version.ts';
import { cliInputs } from './inputs.ts';
import { EXIT, helpText, optionName, parseCommandLine, type CliOptions } from './options.ts';
import { Terminal } from './terminal.ts';

export async function main(argv: string[]): Promise<number> {
  const command = parseCommandLine(argv);
  if (command.kind === 'refused') {
    process.stderr.write(`${command.message}\n`);
    return EXIT.error;
  }
  if (command.kind !== 'run') {
    process.stdout.write(`${command.kind === 'help' ? helpText() : VERSION}\n`);
    return EXIT.success;
  }
  const { options } = command;
  let monitor: ServiceMonitor | undefined;
  if (options.metrics) {
    try {
      monitor = await startMonitor(options.metrics.listen, options.metrics.approvalFailureGraceMs === undefined ? {} : { approvalFailureGraceMs: options.metrics.approvalFailureGraceMs });
    } catch (error) {
      process.stderr.write(`Option --metrics-address: cannot listen on ${options.metrics.address}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.\n`);
      return EXIT.error;
    }
  }
  const terminal = new Terminal(process.env.OFI_DEBUG === '1' || process.env.RUNNER_DEBUG === '1');
  if (monitor) terminal.log.info(`metrics at http://${monitor.address}/metrics, health check at http://${monitor.address}/healthz`);
  const inputs = cliInputs(options, terminal.log);
  const signal = stopOnSignals((message) => terminal.print(message));
  let current: (() => RunReport) | undefined;
  const stopProgress = terminal.showProgress(() => current && progressLine(current(), Date.now(), progressDeadline(current(), options)));
  let outcome;
  try {
    outcome = await execute(
      inputs.read,
      {
        log: terminal.log,
        group: async (title, fn) => (terminal.print(`== ${title}`), fn()),
        signal,
        registerSecret: terminal.addSecret,
        inputNaming: optionName,
        onProgress: (read) => (current = read),
        ...(options.diagnosticsDir ? { diagnosticsDir: options.diagnosticsDir } : {}),
      },
      {
        watch: options.watch,
        reloadNodes: inputs.reloadNodes,
        ...(monitor ? { monitor } : {}),
        ...(options.kubeconfigFile ? { kubeconfigFile: options.kubeconfigFile } : {}),
      },
    );
  } finally {
    await monitor?.close();
    stopProgress();
  }
  const { report, settings } = outcome;
  publish(report, settings?.summary === true, {
    log: terminal.log,
    summaryFileExpected: false,
    outputs: (final) => {
      if (options.output === 'json') process.stdout.write(`${outputJson(jsonOutputs(final), 2)}\n`);
      else if (settings) process.stdout.write(terminal.mask(renderText(final)));
    },
    failed: (message) => terminal.print(message),
    succeeded: () => {},
  });
  return EXIT[report.result];
}

/** The action's outputs with the JSON ones decoded. */
function jsonOutputs(report: RunReport): Record<string, unknown> {
  const text = new Set(['result', 'diagnostics-path']);
  return Object.fromEntries(Object.entries(toOutputs(report)).map(([k, v]) => [k, text.has(k) ? v : JSON.parse(v)]));
}

/** An upper bound for the progress line: the node phase, then the operator wait. */
function progressDeadline(report: RunReport, options: CliOptions): number {
  const limit = (name: InputName) => parseDuration(String(options.inputs[name] ?? INPUTS.find((i) => i.name === name)!.default)) ?? 0;
  const nodesDone = report.nodes.length > 0 && report.nodes.every((n) => n.ready);
  return report.startedAt + limit('nodes-timeout') + (nodesDone || report.nodes.length === 0 ? limit('operators-timeout') : 0);
}

