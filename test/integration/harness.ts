// Runs the bundled action exactly as a GitHub runner does: INPUT_* variables, GITHUB_OUTPUT and
// GITHUB_STEP_SUMMARY files, the kubeconfig of the least-privilege identity as the input.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { startControlPlane, type ControlPlane } from '../env/controlplane.ts';
import { startInstall, type InstallOptions, type SimulatedInstall } from '../sim/install.ts';

export const BUNDLE = new URL('../../dist/index.js', import.meta.url).pathname;

export interface ActionRun {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
  /** The files of the diagnostics folder, by name, when the run wrote one. */
  diagnostics: Record<string, string>;
  json<T = unknown>(name: string): T;
}

export interface RunningAction {
  child: ChildProcess;
  done: Promise<ActionRun>;
  stdoutSoFar(): string;
}

export function startAction(cp: ControlPlane | undefined, inputs: Record<string, string>, opts: { env?: Record<string, string>; identity?: 'action' | 'admin'; bundle?: string } = {}): RunningAction {
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
  const child = spawn(process.execPath, [opts.bundle ?? BUNDLE], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const done = new Promise<ActionRun>((resolve) => {
    child.on('close', (exitCode, signal) => {
      const outputs = parseOutputs(readFileSync(outputFile, 'utf8'));
      const summary = readFileSync(summaryFile, 'utf8');
      const diagnostics: Record<string, string> = {};
      const path = outputs['diagnostics-path'];
      if (path && existsSync(path)) {
        for (const entry of readdirSync(path, { recursive: true, withFileTypes: true })) {
          if (entry.isFile()) diagnostics[entry.name] = readFileSync(`${entry.parentPath}/${entry.name}`, 'utf8');
        }
      }
      rmSync(dir, { recursive: true, force: true });
      resolve({
        exitCode,
        signal,
        stdout,
        stderr,
        outputs,
        summary,
        diagnostics,
        json: <T>(name: string) => {
          if (!(name in outputs)) throw new Error(`output ${name} not set; stdout:\n${stdout}`);
          return JSON.parse(outputs[name]!) as T;
        },
      });
    });
  });
  return { child, done, stdoutSoFar: () => stdout };
}

export function runAction(cp: ControlPlane | undefined, inputs: Record<string, string>, opts: { env?: Record<string, string>; identity?: 'action' | 'admin' } = {}): Promise<ActionRun> {
  return startAction(cp, inputs, opts).done;
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

export interface RefusedCsrOutput {
  name: string;
  signer: string;
  requestor: string;
  node: string;
  reason: string;
}

export interface NodeOutput {
  name: string;
  ready: boolean;
  clientApproved: boolean;
  servingIssued: boolean;
  /** client certificates issued for the name on requests the run approved */
  clientCertificates: number;
}

/**
 * One control plane for a test file (started before its first test, stopped after its last) and
 * the simulated installs its tests start, stopped with it. Tests isolate themselves by names.
 */
export function sharedControlPlane(): { readonly cp: ControlPlane; install(options: InstallOptions): Promise<SimulatedInstall> } {
  let cp: ControlPlane | undefined;
  const installs: SimulatedInstall[] = [];
  before(async () => {
    cp = await startControlPlane();
  });
  after(async () => {
    await Promise.all(installs.map((i) => i.stop()));
    await cp?.stop();
  });
  return {
    get cp() {
      if (!cp) throw new Error('the control plane is not started yet');
      return cp;
    },
    async install(options) {
      const sim = await startInstall(this.cp, { controlPlaneNodes: 0, registry: false, ...options });
      installs.push(sim);
      return sim;
    },
  };
}

/**
 * The CSR tests' shared bed: one control plane for the file, the first install with 3
 * control-plane Nodes, and reads of CSRs by name.
 */
export function csrTestBed() {
  const bed = sharedControlPlane();
  let first = true;
  const install = (options: InstallOptions) => {
    const controlPlaneNodes = first ? 3 : 0;
    first = false;
    return bed.install({ controlPlaneNodes, ...options });
  };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const readCsr = (name: string): Promise<any> => bed.cp.admin.request('GET', `/apis/certificates.k8s.io/v1/certificatesigningrequests/${name}`);
  const conditionTypes = async (name: string): Promise<string[]> => ((await readCsr(name)).status?.conditions ?? []).map((c: { type: string }) => c.type);
  const nodeInputs = (lines: string[], extra: Record<string, string> = {}) => ({ nodes: lines.join('\n'), 'wait-for-operators': 'false', 'nodes-timeout': '90s', ...extra });
  return { bed, install, readCsr, conditionTypes, nodeInputs };
}
