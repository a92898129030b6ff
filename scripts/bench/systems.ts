// The approvers the benchmark compares, each started against a fresh control plane and stopped
// (with everything it spawned) at the end of its run:
//   action    dist/index.js, spawned exactly as a GitHub runner does (test/integration/harness.ts)
//   baseline  the same spawn running an older bundle (`--baseline=<file>`), to compare two builds
//   loop-10s  the documented shell loop with kubectl, `sleep 10`
//   loop-1s   the same with `sleep 1`
//   raw       a tight list + PUT approval loop with no checks, 16 approvals in flight
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { ControlPlane } from '../../test/env/controlplane.ts';
import { startAction, type ActionRun } from '../../test/integration/harness.ts';

export type SystemKind = 'action' | 'baseline' | 'loop-10s' | 'loop-1s' | 'raw';

export interface Machine { name: string; address: string }

export interface RunningSystem {
  kind: SystemKind;
  /** epoch ms (fractional) just before the process was spawned */
  spawnedAt: number;
  /** resolves when the approver is watching / has listed once, so the scenario may begin */
  ready: Promise<void>;
  /** the action's process exit (performance.now()), once it happened */
  exitedAt(): number | undefined;
  /** resolves when the action has exited by itself; undefined for the loops */
  done: Promise<ActionRun> | undefined;
  /** highest VmHWM seen, in bytes (0 when not polled) */
  peakRss(): number;
  /** CPU time of the approver's process (user + system) last seen, ms (0 when not polled) */
  cpuMs(): number;
  /** stops the approver (and everything it spawned); idempotent */
  stop(): Promise<void>;
  output(): string;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const c of live) killChild(c, 'SIGKILL', groupOf.get(c) ?? false);
  });
}

const groupOf = new WeakMap<ChildProcess, boolean>();

function killChild(child: ChildProcess, signal: NodeJS.Signals, group: boolean): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    if (group) process.kill(-child.pid, signal);
    else child.kill(signal);
  } catch {
    // already gone
  }
}

async function terminate(child: ChildProcess, group: boolean): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  killChild(child, 'SIGTERM', group);
  const timer = setTimeout(() => killChild(child, 'SIGKILL', group), 5000);
  await exited;
  clearTimeout(timer);
}

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ on Linux

/**
 * Polls /proc/<pid>/status for VmHWM (the kernel's peak resident set size of the process) and
 * /proc/<pid>/stat for its CPU time (user + system).
 */
function procPoller(pid: number | undefined): { peak(): number; cpuMs(): number; stop(): void } {
  let peak = 0;
  let cpuMs = 0;
  const read = () => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) peak = Math.max(peak, Number(m[1]) * 1024);
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
      cpuMs = ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
    } catch {
      // exited
    }
  };
  const timer = setInterval(read, 20);
  read();
  return { peak: () => peak, cpuMs: () => cpuMs, stop: () => clearInterval(timer) };
}

/** Resolves when `predicate` holds for the text of `file` (polled). */
export async function waitForFile(file: string, predicate: (text: string) => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await readFile(file, 'utf8').catch(() => '');
    if (predicate(text)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface SystemOptions { auditLog: string; actionUser: string; kubectl?: string; baselineBundle?: string }

export function startSystem(kind: SystemKind, cp: ControlPlane, machines: Machine[], opts: SystemOptions): RunningSystem {
  if (kind === 'action') return startTheAction('action', cp, machines, opts);
  if (kind === 'baseline') {
    if (!opts.baselineBundle) throw new Error('the baseline system needs --baseline=<bundle>');
    return startTheAction('baseline', cp, machines, { ...opts, bundle: opts.baselineBundle });
  }
  if (kind === 'raw') return startRaw(cp);
  return startShellLoop(cp, kind === 'loop-10s' ? 10 : 1, opts.kubectl!);
}

/** Both actions, the current bundle and the baseline, are started alike and use the action's identity. */
function startTheAction(kind: 'action' | 'baseline', cp: ControlPlane, machines: Machine[], opts: { auditLog: string; actionUser: string; bundle?: string }): RunningSystem {
  const inputs = {
    nodes: machines.map((m) => `${m.name} ${m.address} ${m.name}`).join('\n'),
    'wait-for-operators': 'false',
    'stable-period': '0s',
    'poll-interval': '10s',
    'nodes-timeout': '20m',
  };
  const spawnedAt = performance.timeOrigin + performance.now();
  // OFI_BENCH_NODE_OPTIONS (for example `--cpu-prof --cpu-prof-dir=/tmp/prof`) profiles the action.
  // OFI_BENCH_RUNNER_DEBUG=1 turns on the action's debug lines (RUNNER_DEBUG).
  const env: Record<string, string> = {};
  if (process.env.OFI_BENCH_NODE_OPTIONS) env.NODE_OPTIONS = process.env.OFI_BENCH_NODE_OPTIONS;
  if (process.env.OFI_BENCH_RUNNER_DEBUG) env.RUNNER_DEBUG = '1';
  const running = startAction(cp, inputs, { env, bundle: opts.bundle });
  const child = running.child;
  groupOf.set(child, false);
  track(child);
  const rss = procPoller(child.pid);
  let exitedAt: number | undefined;
  child.once('exit', () => {
    exitedAt = performance.now();
    rss.stop();
  });
  // Ready for the scenario once the server has answered the action's first CSR and Node lists
  // (a watch shows in the audit log only when it ends), and a moment for the watches to open;
  // they start from the lists' resourceVersion, so nothing created meanwhile is missed.
  const listed = (text: string) =>
    text.split('\n').filter((l) => l.includes('"verb":"list"') && l.includes(`"username":"${opts.actionUser}"`))
      .reduce((s, l) => s.add(/"resource":"(\w+)"/.exec(l)?.[1] ?? ''), new Set<string>()).size >= 2;
  const ready = Promise.race([
    waitForFile(opts.auditLog, listed, 30_000, 'the action to list CSRs and Nodes').then(() => new Promise((r) => setTimeout(r, 250))).then(() => {}),
    running.done.then((r) => { throw new Error(`the action exited before watching (exit ${r.exitCode}):\n${r.stdout}\n${r.stderr}`); }),
  ]);
  ready.catch(() => {});
  return {
    kind,
    spawnedAt,
    ready,
    exitedAt: () => exitedAt,
    done: running.done,
    peakRss: rss.peak,
    cpuMs: rss.cpuMs,
    output: () => running.stdoutSoFar().replace(/^::add-mask::.*$/gm, '::add-mask::***'),
    async stop() {
      await terminate(child, false);
      rss.stop();
    },
  };
}

function startRaw(cp: ControlPlane): RunningSystem {
  const caFile = join(cp.dir, 'bench-ca.crt');
  writeFileSync(caFile, cp.caPem);
  const script = fileURLToPath(new URL('./raw-approver.ts', import.meta.url));
  const spawnedAt = performance.timeOrigin + performance.now();
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, OFI_URL: cp.url, OFI_CA_FILE: caFile, OFI_TOKEN: cp.actionToken },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  groupOf.set(child, false);
  track(child);
  const rss = procPoller(child.pid);
  let out = '';
  let listed!: () => void;
  const ready = new Promise<void>((resolve, reject) => {
    listed = resolve;
    child.once('exit', (code) => reject(new Error(`raw loop exited (${code}):\n${out}`)));
  });
  ready.catch(() => {});
  child.stdout!.on('data', (c) => {
    out += c;
    if (out.includes('listed')) listed();
  });
  child.stderr!.on('data', (c) => (out += c));
  return {
    kind: 'raw',
    spawnedAt,
    ready,
    exitedAt: () => undefined,
    done: undefined,
    peakRss: rss.peak,
    cpuMs: rss.cpuMs,
    output: () => out,
    async stop() {
      await terminate(child, false);
      rss.stop();
    },
  };
}

const GO_TEMPLATE = '{{range .items}}{{if not .status}}{{.metadata.name}}{{"\\n"}}{{end}}{{end}}';

function startShellLoop(cp: ControlPlane, sleepSeconds: number, kubectl: string): RunningSystem {
  // The loop from the OpenShift documentation, with kubectl for oc, as the admin identity.
  const script = [
    'while true; do',
    '  echo tick',
    `  kubectl get csr -o go-template='${GO_TEMPLATE}' | xargs --no-run-if-empty kubectl certificate approve >/dev/null`,
    `  sleep ${sleepSeconds}`,
    'done',
  ].join('\n');
  const home = mkdtemp(join(tmpdir(), 'ofi-bench-loop-'));
  const spawnedAt = performance.timeOrigin + performance.now();
  let child: ChildProcess | undefined;
  let out = '';
  const ready = (async () => {
    const dir = await home;
    child = spawn('bash', ['-c', script], {
      env: { PATH: `${dirname(kubectl)}:${process.env.PATH ?? ''}`, HOME: dir, KUBECONFIG: cp.writeKubeconfig('admin') },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    groupOf.set(child, true);
    track(child);
    const c = child;
    await new Promise<void>((resolve, reject) => {
      c.stdout!.on('data', (chunk) => {
        out += chunk;
        if (out.includes('tick')) resolve();
      });
      c.stderr!.on('data', (chunk) => (out += chunk));
      c.once('exit', (code) => reject(new Error(`shell loop exited (${code}):\n${out}`)));
    });
  })();
  ready.catch(() => {});
  return {
    kind: sleepSeconds === 10 ? 'loop-10s' : 'loop-1s',
    spawnedAt,
    ready,
    exitedAt: () => undefined,
    done: undefined,
    peakRss: () => 0,
    cpuMs: () => 0,
    output: () => out,
    async stop() {
      if (child) await terminate(child, true);
      await rm(await home, { recursive: true, force: true });
    },
  };
}

export { ensureKubectl } from '../../test/env/ensure.ts';
