// The command line -> one typed CliOptions: every input as an option of the same name, and the
// CLI's own (files, output format, the --watch service). Checked here, before anything runs.
import { parseArgs } from 'node:util';
import { parseListenAddress, type ListenAddress } from '../service/monitor.ts';
import { parseDuration } from '../settings/duration.ts';
import { INPUTS, type InputName } from '../settings/inputs.ts';
import type { InputNaming } from '../settings/settings.ts';

/** Exit codes, documented in --help and the README. */
export const EXIT = { success: 0, error: 1, timeout: 2 } as const;

/** Every input is an option of the same name, but the inventory file, which is --nodes-file (re-read by --watch). */
export const optionName: InputNaming = (input) => `Option --${input === 'inventory' ? 'nodes-file' : input}`;

/** Inputs that are not an option of their own name: the kubeconfig and the inventory are files here (--kubeconfig, --nodes-file). */
const FILE_INPUTS: readonly string[] = ['kubeconfig', 'inventory'];
const OPTION_INPUTS = INPUTS.filter((i) => !FILE_INPUTS.includes(i.name));

const BOOLEAN_INPUTS = INPUTS.filter((i) => i.default === 'true' || i.default === 'false').map((i) => i.name as string);
const EXTRA_OPTIONS = {
  kubeconfig: { type: 'string', help: 'PATH', description: 'Kubeconfig file. Default: KUBECONFIG, then ~/.kube/config.' },
  'nodes-file': {
    type: 'string',
    help: 'PATH',
    description:
      "The machines, from a file instead of --nodes (the action's inventory input): lines as in --nodes, an OpenShift nodes-config.yaml or agent-config.yaml (each host's hostname and static addresses), or a YAML or JSON list of {name, addresses}; re-read in --watch mode.",
  },
  output: { type: 'string', help: 'text|json', description: 'Print the result as a readable report (default) or as JSON with the action outputs.' },
  'diagnostics-dir': { type: 'string', help: 'PATH', description: 'When the run does not succeed, write diagnostics (unstable operators, node events, refused CSRs) here.' },
  watch: { type: 'boolean', help: '', description: 'Keep approving the requests of the listed machines (serving renewals, late machines) until stopped.' },
  'metrics-address': {
    type: 'string',
    help: 'HOST:PORT',
    description: 'With --watch: serve Prometheus metrics at /metrics and a health check at /healthz (200 once synced, 503 when the API server is out of reach or an allowed approval keeps failing) on this address; :PORT listens on every interface.',
  },
  'approval-failure-grace': {
    type: 'string',
    help: 'DURATION',
    description: 'With --metrics-address: /healthz answers 503 once the approval of a request the policy allows has been failing (403, 422, no answer) for this long. Default: 5m.',
  },
  version: { type: 'boolean', help: '', description: 'Print the version and exit.' },
  help: { type: 'boolean', help: '', description: 'Show this help.' },
} as const;

export interface CliOptions {
  /** The inputs given as options (a boolean one as given, --x or --no-x); the kubeconfig and inventory inputs are files here. */
  readonly inputs: Partial<Record<InputName, string | boolean>>;
  readonly kubeconfigFile?: string;
  readonly nodesFile?: string;
  readonly output: 'text' | 'json';
  readonly diagnosticsDir?: string;
  readonly watch: boolean;
  readonly metrics?: { readonly address: string; readonly listen: ListenAddress; readonly approvalFailureGraceMs?: number };
}

export type ParsedCommandLine =
  | { readonly kind: 'run'; readonly options: CliOptions }
  | { readonly kind: 'help' | 'version' }
  /** A line for stderr; the exit code is EXIT.error. */
  | { readonly kind: 'refused'; readonly message: string };

export function parseCommandLine(argv: readonly string[]): ParsedCommandLine {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: [...argv],
      allowNegative: true,
      options: {
        ...Object.fromEntries(OPTION_INPUTS.map((i) => [i.name, { type: BOOLEAN_INPUTS.includes(i.name) ? 'boolean' : 'string' } as const])),
        ...Object.fromEntries(Object.entries(EXTRA_OPTIONS).map(([name, o]) => [name, { type: o.type }])),
      },
    }).values;
  } catch (error) {
    return { kind: 'refused', message: `${(error as Error).message}\nRun openshift-finish-install --help for the options.` };
  }
  if (values.help) return { kind: 'help' };
  if (values.version) return { kind: 'version' };
  const output = values.output ?? 'text';
  if (output !== 'text' && output !== 'json') return { kind: 'refused', message: `Option --output: '${output}' is not a known value. Accepted: text, json.` };
  let metrics: CliOptions['metrics'];
  if (values['metrics-address'] !== undefined) {
    const address = String(values['metrics-address']);
    const listen = parseListenAddress(address);
    const problem = !values.watch ? 'is only used with --watch' : !listen ? `'${address}' is not an address to listen on` : undefined;
    if (problem) return { kind: 'refused', message: `Option --metrics-address: ${problem}. Accepted: HOST:PORT, [IPv6]:PORT or :PORT, with --watch.` };
    metrics = { address, listen: listen! };
  }
  if (values['approval-failure-grace'] !== undefined) {
    const text = String(values['approval-failure-grace']);
    const ms = parseDuration(text);
    const problem = !metrics ? 'is only used with --metrics-address' : ms === undefined || ms <= 0 ? `'${text}' is not a duration` : undefined;
    if (problem) return { kind: 'refused', message: `Option --approval-failure-grace: ${problem}. Accepted: a duration above 0 such as 90s, 5m or 1h, with --metrics-address.` };
    metrics = { ...metrics!, approvalFailureGraceMs: ms! };
  }
  const inputs = Object.fromEntries(OPTION_INPUTS.filter((i) => values[i.name] !== undefined).map((i) => [i.name, values[i.name]!]));
  return {
    kind: 'run',
    options: {
      inputs,
      output,
      watch: values.watch === true,
      ...(values.kubeconfig ? { kubeconfigFile: String(values.kubeconfig) } : {}),
      ...(values['nodes-file'] !== undefined ? { nodesFile: String(values['nodes-file']) } : {}),
      ...(values['diagnostics-dir'] ? { diagnosticsDir: String(values['diagnostics-dir']) } : {}),
      ...(metrics ? { metrics } : {}),
    },
  };
}

export function helpText(): string {
  const rows: Array<[string, string]> = [];
  for (const input of OPTION_INPUTS) {
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
