// The one way tests run a program (the bundled action, the CLI, the installed package, a README
// example): an explicit environment, the output captured, a deadline, and nothing left running
// when the test file ends.
import { spawn, type ChildProcess } from 'node:child_process';

export interface ProcessOptions {
  /** The whole environment: nothing is inherited, so a run depends only on what the test gives. */
  env: Record<string, string>;
  cwd?: string;
  /** The process is killed and the run fails after this long (Infinity: a service the test stops). */
  timeoutMs?: number;
}

export interface ProcessRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** From the spawn to the exit. */
  ms: number;
}

export interface RunningProcess {
  child: ChildProcess;
  /** Resolves when the process has exited; rejects when it outlived timeoutMs (it is killed then). */
  done: Promise<ProcessRun>;
  stdoutSoFar(): string;
  stderrSoFar(): string;
}

/** Longer than any single run the tests start (the longest waits 150 s for its nodes). */
export const DEFAULT_PROCESS_TIMEOUT_MS = 200_000;

const running = new Set<ChildProcess>();

export function startProcess(command: string, args: readonly string[], options: ProcessOptions): RunningProcess {
  const started = Date.now();
  // Its own process group, so that a timeout also ends what it started (a README example's CLI under bash).
  const child = spawn(command, args, { env: options.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timeoutMs = options.timeoutMs ?? DEFAULT_PROCESS_TIMEOUT_MS;
  let timedOut = false;
  const timer = Number.isFinite(timeoutMs)
    ? setTimeout(() => {
        timedOut = true;
        killGroup(child);
      }, timeoutMs)
    : undefined;
  const done = new Promise<ProcessRun>((resolve, reject) => {
    child.once('error', (error) => {
      clearTimeout(timer);
      running.delete(child);
      reject(new Error(`${command}: ${error.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      if (!timedOut) return resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
      reject(new Error(`${[command, ...args].join(' ').slice(0, 300)} still running after ${timeoutMs} ms (killed)\n--- stdout (end) ---\n${stdout.slice(-3000)}\n--- stderr (end) ---\n${stderr.slice(-3000)}`));
    });
  });
  return { child, done, stdoutSoFar: () => stdout, stderrSoFar: () => stderr };
}

export function runProcess(command: string, args: readonly string[], options: ProcessOptions): Promise<ProcessRun> {
  return startProcess(command, args, options).done;
}

/** Kills what a failed or timed-out test left running (an after hook calls it). */
export function killStartedProcesses(): void {
  for (const child of running) killGroup(child);
}

function killGroup(child: ChildProcess): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  } catch {
    // the group is gone already
  }
}
