import { accessSync, appendFileSync, constants, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Log } from './log.ts';
import { newReport, toOutputs } from './report/report.ts';
import { renderSummary } from './report/summary.ts';
import { progressLine, renderText } from './report/text.ts';
import { parseDuration } from './settings/duration.ts';
import { execute } from './run.ts';
import { parseListenAddress, startMonitor, type ServiceMonitor } from './service/monitor.ts';
import { INPUTS, type InputName } from './settings/inputs.ts';
import { InputError, parseNodes } from './settings/settings.ts';
import { VERSION } from './version.ts';

/** Exit codes, documented in --help and the README. */
export const EXIT = { success: 0, error: 1, timeout: 2 } as const;

const BOOLEAN_INPUTS = INPUTS.filter((i) => i.default === 'true' || i.default === 'false').map((i) => i.name as string);
const EXTRA_OPTIONS = {
  kubeconfig: { type: 'string', help: 'PATH', description: 'Kubeconfig file. Default: KUBECONFIG, then ~/.kube/config.' },
  'nodes-file': { type: 'string', help: 'PATH', description: 'Read --nodes from this file (one machine per line); re-read in --watch mode.' },
  output: { type: 'string', help: 'text|json', description: 'Print the result as a readable report (default) or as JSON with the action outputs.' },
  'diagnostics-dir': { type: 'string', help: 'PATH', description: 'When the run does not succeed, write diagnostics (unstable operators, node events, refused CSRs) here.' },
  watch: { type: 'boolean', help: '', description: 'Keep approving the requests of the listed machines (serving renewals, late machines) until stopped.' },
  'metrics-address': {
    type: 'string',
    help: 'HOST:PORT',
    description: 'With --watch: serve Prometheus metrics at /metrics and a health check at /healthz (200 once synced, 503 when the API server is out of reach) on this address; :PORT listens on every interface.',
  },
  version: { type: 'boolean', help: '', description: 'Print the version and exit.' },
  help: { type: 'boolean', help: '', description: 'Show this help.' },
} as const;

export function helpText(): string {
  const rows: Array<[string, string]> = [];
  for (const input of INPUTS) {
    if (input.name === 'kubeconfig') continue;
    const flag = BOOLEAN_INPUTS.includes(input.name) ? `--${input.name}, --no-${input.name}` : `--${input.name} VALUE`;
    rows.push([flag, `${input.description}${input.default ? ` Default: ${input.default}.` : ''}`]);
  }
  for (const [name, option] of Object.entries(EXTRA_OPTIONS)) rows.push([`--${name}${option.help ? ` ${option.help}` : ''}`, option.description]);
  return [
    'Usage: openshift-finish-install [options]',
    '',
    'Finish a user-provisioned OpenShift install: approve the verified kubelet CSRs of the listed',
    'machines until they are Ready, configure image registry storage, wait for stable ClusterOperators.',
    'The same inputs, validation and outputs as the GitHub Action.',
    '',
    'Options:',
    ...rows.map(([flag, text]) => `  ${flag}\n      ${text}`),
    '',
    'Exit codes: 0 success, 1 error (bad input, permissions, API errors, cancelled), 2 timeout.',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: argv,
      allowNegative: true,
      options: {
        ...Object.fromEntries(INPUTS.filter((i) => i.name !== 'kubeconfig').map((i) => [i.name, { type: BOOLEAN_INPUTS.includes(i.name) ? 'boolean' : 'string' } as const])),
        ...Object.fromEntries(Object.entries(EXTRA_OPTIONS).map(([name, o]) => [name, { type: o.type }])),
      },
    }).values;
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\nRun openshift-finish-install --help for the options.\n`);
    return EXIT.error;
  }
  if (values.help) {
    process.stdout.write(`${helpText()}\n`);
    return EXIT.success;
  }
  if (values.version) {
    process.stdout.write(`${VERSION}\n`);
    return EXIT.success;
  }
  const json = values.output === 'json';
  if (values.output !== undefined && !['json', 'text'].includes(String(values.output))) {
    process.stderr.write(`Option --output: '${values.output}' is not a known value. Accepted: text, json.\n`);
    return EXIT.error;
  }

  let monitor: ServiceMonitor | undefined;
  if (values['metrics-address'] !== undefined) {
    const value = String(values['metrics-address']);
    const listen = parseListenAddress(value);
    const problem = !values.watch ? 'is only used with --watch' : !listen ? `'${value}' is not an address to listen on` : undefined;
    if (problem) {
      process.stderr.write(`Option --metrics-address: ${problem}. Accepted: HOST:PORT, [IPv6]:PORT or :PORT, with --watch.\n`);
      return EXIT.error;
    }
    try {
      monitor = await startMonitor(listen!);
    } catch (error) {
      process.stderr.write(`Option --metrics-address: cannot listen on ${value}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.\n`);
      return EXIT.error;
    }
  }

  const secrets = new Set<string>();
  const mask = (text: string) => [...secrets].reduce((t, s) => t.split(s).join('***'), text);
  const tty = process.stderr.isTTY === true;
  let progress = '';
  const print = (line: string) => {
    if (tty && progress) process.stderr.write('\r\x1b[2K');
    process.stderr.write(`${mask(line)}\n`);
    if (tty && progress) process.stderr.write(progress);
  };
  const debug = process.env.OFI_DEBUG === '1' || process.env.RUNNER_DEBUG === '1';
  const log: Log = { info: print, warning: (m) => print(`warning: ${m}`), debug: (m) => debug && print(`debug: ${m}`) };
  if (monitor) log.info(`metrics at http://${monitor.address}/metrics, health check at http://${monitor.address}/healthz`);

  let nodesFileError: InputError | undefined;
  const readNodesFile = () => {
    try {
      return readFileSync(String(values['nodes-file']), 'utf8');
    } catch (error) {
      nodesFileError = new InputError('nodes-file', `cannot read ${values['nodes-file']}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, 'a readable file, one machine per line');
      return '';
    }
  };
  const read = (name: InputName): string => {
    if (name === 'kubeconfig') {
      if (!values.kubeconfig) return '';
      try {
        accessSync(String(values.kubeconfig), constants.R_OK);
      } catch (error) {
        throw new InputError('kubeconfig', `cannot read ${values.kubeconfig}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, 'a readable kubeconfig file');
      }
      // Loaded as KUBECONFIG, so that any error about its content names the file.
      process.env.KUBECONFIG = String(values.kubeconfig);
      return '';
    }
    if (name === 'nodes' && values['nodes-file'] !== undefined) {
      if (values.nodes !== undefined) throw new InputError('nodes', 'both --nodes and --nodes-file are given', 'one of them');
      const text = readNodesFile();
      if (nodesFileError) throw nodesFileError;
      return text;
    }
    const value = values[name];
    return value === undefined ? '' : String(value);
  };

  const cancel = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      print(`received ${signal}: stopping and reporting what is known`);
      cancel.abort();
    });
  }
  const report = newReport(Date.now(), values['dry-run'] === true);
  const limit = (name: InputName) => parseDuration(String(values[name] ?? INPUTS.find((i) => i.name === name)!.default)) ?? 0;
  const ticker = tty
    ? setInterval(() => {
        // An upper bound: the node phase, then the operator wait.
        const nodesDone = report.nodes.length > 0 && report.nodes.every((n) => n.ready);
        const deadline = report.startedAt + limit('nodes-timeout') + (nodesDone || report.nodes.length === 0 ? limit('operators-timeout') : 0);
        progress = progressLine(report, Date.now(), deadline);
        process.stderr.write(`\r\x1b[2K${progress}`);
      }, 1000)
    : undefined;
  let outcome;
  try {
    outcome = await execute(
      (name) => {
        try {
          return read(name);
        } catch (error) {
          if (error instanceof InputError) throw error;
          throw new InputError(name, (error as Error).message, 'see --help');
        }
      },
      {
        log,
        group: async (title, fn) => (print(`== ${title}`), fn()),
        signal: cancel.signal,
        registerSecret: (s) => secrets.add(s),
        report,
        ...(values['diagnostics-dir'] ? { diagnosticsDir: String(values['diagnostics-dir']) } : {}),
      },
      {
        watch: values.watch === true,
        ...(monitor ? { monitor } : {}),
        reloadNodes: () => {
          if (values['nodes-file'] === undefined) return undefined;
          try {
            nodesFileError = undefined;
            const text = readNodesFile();
            // A file that cannot be read, or is empty for a moment (an editor or a config tool
            // rewriting it), is not "unlist every machine": keep the machines listed until then.
            if (nodesFileError) throw nodesFileError;
            if (text.trim() === '') throw new Error(`${values['nodes-file']} is empty; the previous list stays (list no machine with a line holding only a comment)`);
            return parseNodes(text);
          } catch (error) {
            log.warning(`ignoring the changed nodes file: ${(error as Error).message}`);
            return undefined;
          }
        },
      },
    );
  } finally {
    await monitor?.close();
    clearInterval(ticker);
    if (tty) process.stderr.write('\r\x1b[2K');
  }
  const { report: final, settings } = outcome;
  final.failure = final.failure.replace(/^Input '([^']+)'/, (_, n) => `Option --${n}`);
  if (settings?.summary && process.env.GITHUB_STEP_SUMMARY) {
    try {
      appendFileSync(process.env.GITHUB_STEP_SUMMARY, renderSummary(final));
    } catch (error) {
      log.warning(`could not write the job summary: ${(error as Error).message}`);
    }
  }
  if (json) {
    const outputs = toOutputs(final);
    const text = new Set(['result', 'diagnostics-path']);
    const decoded = Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, text.has(k) ? v : JSON.parse(v)]));
    process.stdout.write(`${JSON.stringify(decoded, null, 2)}\n`);
  } else if (settings) {
    // eslint-disable-next-line no-control-regex
    process.stdout.write(mask(renderText(final)).replace(/[\u0000-\u0009\u000b-\u001f\u007f]/g, '?'));
  }
  if (final.failure) process.stderr.write(`${mask(final.failure)}\n`);
  return EXIT[final.result];
}
