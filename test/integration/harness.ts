// What every integration file shares: one control plane per file (tests isolate themselves by
// object names), the bundled action run exactly as a GitHub runner runs it (INPUT_* variables,
// GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, the least-privilege kubeconfig as the input), the
// CLI, and the outputs typed from the report that writes them.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { objectPath, PATHS } from '../../src/cluster/paths.ts';
import type { RunReport } from '../../src/report/report.ts';
import { parseDuration } from '../../src/settings/duration.ts';
import { INPUTS } from '../../src/settings/inputs.ts';
import { startControlPlane, type ControlPlane, type ControlPlaneOptions } from '../env/controlplane.ts';
import { killStartedProcesses, startProcess, type ProcessOptions, type ProcessRun, type RunningProcess } from '../env/process.ts';
import { startInstall, type InstallOptions, type SimulatedInstall } from '../sim/install.ts';
import { untilObserved } from '../env/until.ts';
import { readableSummary } from '../unit/markdown.ts';

export const BUNDLE = new URL('../../dist/index.js', import.meta.url).pathname;
export const CLI = new URL('../../dist/cli.js', import.meta.url).pathname;

type Unset = Record<string, never>;

/** The JSON outputs by name, as toOutputs() (src/report/report.ts) writes them from the report. */
export interface JsonOutputs {
  'approved-csrs': RunReport['approvedCsrs'];
  'refused-csrs': RunReport['refusedCsrs'];
  nodes: RunReport['nodes'];
  'unstable-operators': Array<Pick<RunReport['unstableOperators'][number], 'name' | 'available' | 'progressing' | 'degraded' | 'message'>>;
  registry: NonNullable<RunReport['registry']> | Unset;
  'cluster-version': NonNullable<RunReport['clusterVersion']> | Unset;
  'machine-config-pools': RunReport['pools'];
}

/** `--output json`: every output, the JSON ones decoded, the flags as booleans. */
export type CliJson = JsonOutputs & {
  result: RunReport['result'];
  'nodes-ready': boolean;
  'operators-stable': boolean;
  'diagnostics-path': string;
  'duration-seconds': number;
};

export const parseCliJson = (stdout: string): CliJson => JSON.parse(stdout) as CliJson;

export interface ActionRun {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  /** The job summary's Markdown source, as written. */
  summary: string;
  /** The job summary as a person reads it rendered (test/unit/markdown.ts readableSummary). */
  summaryText: string;
  /** The files of the diagnostics folder, by name, when the run wrote one. */
  diagnostics: Record<string, string>;
  json<K extends keyof JsonOutputs>(name: K): JsonOutputs[K];
}

export interface RunningAction {
  child: RunningProcess['child'];
  done: Promise<ActionRun>;
  stdoutSoFar(): string;
}

export interface ActionOptions {
  env?: Record<string, string>;
  identity?: 'action' | 'admin';
  /** Another build of the action to run instead of dist/index.js (the benchmark's baseline). */
  bundle?: string;
  /** Default: the run's own deadlines (nodes, operators, registry) and a minute. */
  timeoutMs?: number;
}

/** A run still going this long after all of its own deadlines is hung. */
const HUNG_AFTER_DEADLINES_MS = 60_000;

function ownDeadlinesMs(inputs: Record<string, string>): number {
  const ms = (name: 'nodes-timeout' | 'operators-timeout' | 'registry-timeout') => parseDuration(inputs[name] || (INPUTS.find((i) => i.name === name)?.default ?? '')) ?? 0;
  const operators = inputs['wait-for-operators'] === 'false' ? 0 : ms('operators-timeout');
  return ms('nodes-timeout') + operators + ms('registry-timeout') + HUNG_AFTER_DEADLINES_MS;
}

/** Starts dist/index.js with `inputs` (and the kubeconfig of `cp`, unless inputs has one). */
export function startAction(cp: ControlPlane | undefined, inputs: Record<string, string>, opts: ActionOptions = {}): RunningAction {
  const dir = mkdtempSync(join(tmpdir(), 'ofi-run-'));
  const outputFile = join(dir, 'output');
  const summaryFile = join(dir, 'summary');
  writeFileSync(outputFile, '');
  writeFileSync(summaryFile, '');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: dir,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    RUNNER_TEMP: dir,
    ...opts.env,
  };
  const all = { ...(cp ? { kubeconfig: cp.kubeconfig(opts.identity ?? 'action') } : {}), 'poll-interval': '2s', ...inputs };
  for (const [name, value] of Object.entries(all)) env[`INPUT_${name.toUpperCase()}`] = value;
  const started = startProcess(process.execPath, [opts.bundle ?? BUNDLE], { env, timeoutMs: opts.timeoutMs ?? ownDeadlinesMs(all) });
  const done = started.done
    .then((run) => actionRun(run, readFileSync(outputFile, 'utf8'), readFileSync(summaryFile, 'utf8')))
    .finally(() => rmSync(dir, { recursive: true, force: true }));
  return { child: started.child, done, stdoutSoFar: started.stdoutSoFar };
}

export function runAction(cp: ControlPlane | undefined, inputs: Record<string, string>, opts: ActionOptions = {}): Promise<ActionRun> {
  return startAction(cp, inputs, opts).done;
}

function actionRun(run: ProcessRun, outputText: string, summary: string): ActionRun {
  const outputs = parseOutputs(outputText);
  const diagnostics: Record<string, string> = {};
  const path = outputs['diagnostics-path'];
  if (path && existsSync(path)) {
    for (const entry of readdirSync(path, { recursive: true, withFileTypes: true })) {
      if (entry.isFile()) diagnostics[entry.name] = readFileSync(join(entry.parentPath, entry.name), 'utf8');
    }
  }
  return {
    exitCode: run.code,
    signal: run.signal,
    stdout: run.stdout,
    stderr: run.stderr,
    outputs,
    summary,
    summaryText: readableSummary(summary),
    diagnostics,
    json: (name) => {
      if (!(name in outputs)) throw new Error(`output ${name} not set; stdout:\n${run.stdout}`);
      return JSON.parse(outputs[name]!);
    },
  };
}

/** GITHUB_OUTPUT holds `name<<delimiter\nvalue\ndelimiter` blocks. */
export function parseOutputs(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const match = /^([^<]+)<<(.+)$/.exec(lines[i]!);
    if (!match) continue;
    const end = lines.indexOf(match[2]!, i + 1);
    outputs[match[1]!] = lines.slice(i + 1, end).join('\n');
    i = end;
  }
  return outputs;
}

/** Starts dist/cli.js with `args` as given (the kubeconfig among them), HOME in `home`. */
export function startCli(args: readonly string[], opts: { home: string; env?: Record<string, string>; timeoutMs?: number }): RunningProcess {
  const options: ProcessOptions = { env: { PATH: process.env.PATH ?? '', HOME: opts.home, ...opts.env }, timeoutMs: opts.timeoutMs };
  return startProcess(process.execPath, [CLI, ...args], options);
}

export function runCli(args: readonly string[], opts: { home: string; env?: Record<string, string>; timeoutMs?: number }): Promise<ProcessRun> {
  return startCli(args, opts).done;
}

export interface TestBed {
  readonly cp: ControlPlane;
  /** A directory for the file's tests (kubeconfigs, nodes files, HOME), removed after the last. */
  readonly dir: string;
  /** Resolves once the control plane is up: for a file's own before hook (node:test runs a file's before hooks concurrently). */
  ready(): Promise<ControlPlane>;
  /** A simulated install on the bed (no control-plane Nodes and no registry unless asked), stopped after the last test. */
  install(options: InstallOptions): Promise<SimulatedInstall>;
  /** Stops the installs started so far: for files whose tests take turns on singletons (the registry Config, ClusterVersion). */
  stopInstalls(): Promise<void>;
}

/**
 * One control plane for a test file: started before its first test, stopped after its last with
 * the installs and processes its tests started. Tests isolate themselves by object names.
 */
export function sharedControlPlane(options: ControlPlaneOptions = {}): TestBed {
  let starting: Promise<ControlPlane> | undefined;
  let cp: ControlPlane | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'ofi-bed-'));
  const installs: SimulatedInstall[] = [];
  const ready = () =>
    (starting ??= startControlPlane(options).then((started) => {
      cp = started;
      return started;
    }));
  const stopInstalls = async () => {
    await Promise.all(installs.splice(0).map((i) => i.stop()));
  };
  before(ready);
  after(async () => {
    killStartedProcesses();
    await stopInstalls();
    await cp?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    get cp() {
      if (!cp) throw new Error('the control plane is not started yet: await bed.ready() in a before hook');
      return cp;
    },
    dir,
    ready,
    async install(installOptions) {
      const sim = await startInstall(await ready(), { controlPlaneNodes: 0, registry: false, ...installOptions });
      installs.push(sim);
      return sim;
    },
    stopInstalls,
  };
}

/**
 * The CSR tests' shared bed: one control plane for the file, the first install with 3
 * control-plane Nodes, and reads of CSRs by name.
 */
export function csrTestBed(options: ControlPlaneOptions = {}) {
  const bed = sharedControlPlane(options);
  let first = true;
  const install = (options: InstallOptions) => {
    const controlPlaneNodes = first ? 3 : 0;
    first = false;
    return bed.install({ controlPlaneNodes, ...options });
  };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const readCsr = (name: string): Promise<any> => bed.cp.admin.request('GET', objectPath(PATHS.csrs, name));
  const conditionTypes = async (name: string): Promise<string[]> => ((await readCsr(name)).status?.conditions ?? []).map((c: { type: string }) => c.type);
  const nodeInputs = (lines: string[], extra: Record<string, string> = {}) => ({ nodes: lines.join('\n'), 'wait-for-operators': 'false', 'nodes-timeout': '90s', ...extra });
  return { bed, install, readCsr, conditionTypes, nodeInputs };
}

/**
 * For a scripted step that the action must see from a known point (ScriptStep.after): resolves
 * once the running action's log matches `pattern`. A step on a clock can land before the action
 * has looked at all on a busy machine; one that follows the action's own log cannot.
 */
export function whenLogged(running: () => RunningAction | undefined, pattern: RegExp, timeoutMs = 60_000): () => Promise<string> {
  return () =>
    untilObserved(
      () => {
        const action = running();
        if (action && action.child.exitCode !== null && !pattern.test(action.stdoutSoFar())) throw new Error(`the action exited before it logged ${pattern}`);
        return action?.stdoutSoFar() ?? '';
      },
      (log) => pattern.test(log),
      { message: `the action logged ${pattern}`, timeoutMs },
    );
}

/** The renewal service (dist/cli.js --watch) with its metrics endpoint, started by a test. */
export interface WatchService {
  readonly healthUrl: string;
  readonly metricsUrl: string;
  stderr(): string;
  /** SIGTERM, then its exit. */
  stop(): Promise<{ code: number | null; stderr: string }>;
}

/** Starts `--watch` with `--metrics-address 127.0.0.1:0` and resolves once it printed where its metrics are. */
export async function startWatchService(args: { kubeconfig: string; nodesFile: string; home: string; pollSeconds: number; extra?: string[] }): Promise<WatchService> {
  const service = startCli(
    ['--kubeconfig', args.kubeconfig, '--watch', '--nodes-file', args.nodesFile, '--poll-interval', `${args.pollSeconds}s`, '--metrics-address', '127.0.0.1:0', ...(args.extra ?? [])],
    { home: args.home, timeoutMs: Infinity },
  );
  const stderr = await untilObserved(service.stderrSoFar, (text) => /metrics at http:\/\/[^/\s]+\/metrics/.test(text), { message: 'the service printed its metrics address', timeoutMs: 20_000 });
  const address = /metrics at http:\/\/([^/\s]+)\/metrics/.exec(stderr)![1];
  return {
    healthUrl: `http://${address}/healthz`,
    metricsUrl: `http://${address}/metrics`,
    stderr: service.stderrSoFar,
    async stop() {
      service.child.kill('SIGTERM');
      const run = await service.done;
      return { code: run.code, stderr: run.stderr };
    },
  };
}

/** The samples of the service's Prometheus text, by name with labels as written. */
export async function scrapeMetrics(service: WatchService): Promise<{ samples: Map<string, number>; status: number; contentType: string }> {
  const response = await fetch(service.metricsUrl);
  const samples = new Map<string, number>();
  for (const line of (await response.text()).split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return { samples, status: response.status, contentType: response.headers.get('content-type') ?? '' };
}
