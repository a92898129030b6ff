import { spawn } from 'node:child_process';
import { appendFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as core from '@actions/core';
import { getExecOutput } from '@actions/exec';
import { toOutputs, type RunReport } from './report/report.ts';
import { renderSummary } from './report/summary.ts';
import { execute } from './run.ts';

/** The GitHub Action shell: inputs in, the runbook, outputs and the job summary out. */
export async function run(): Promise<void> {
  const cancel = new AbortController();
  const onSignal = (signal: string) => {
    core.warning(`received ${signal}: stopping and reporting what is known`);
    cancel.abort();
  };
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  process.once('SIGINT', () => onSignal('SIGINT'));
  const { report, settings } = await execute((name) => core.getInput(name), {
    log: { info: core.info, warning: core.warning, debug: core.debug },
    group: (title, fn) => core.group(title, fn),
    signal: cancel.signal,
    registerSecret: core.setSecret,
    diagnosticsDir: join(process.env.RUNNER_TEMP || tmpdir(), `openshift-finish-install-diagnostics-${process.pid}`),
    inspect: ocAdmInspect,
  });
  publish(report, settings?.summary ?? core.getInput('summary').trim() !== 'false');
}

function publish(report: RunReport, summary: boolean): void {
  for (const [name, value] of Object.entries(toOutputs(report))) core.setOutput(name, value);
  if (summary) writeSummary(report);
  if (report.result !== 'success') core.setFailed(report.failure || `finish-install ended with result ${report.result}`);
  else core.info(`finish-install succeeded in ${toOutputs(report)['duration-seconds']}s`);
}

function writeSummary(report: RunReport): void {
  const path = process.env.GITHUB_STEP_SUMMARY;
  if (!path) {
    core.warning('GITHUB_STEP_SUMMARY is not set: no job summary written');
    return;
  }
  try {
    appendFileSync(path, renderSummary(report));
  } catch (error) {
    core.warning(`could not write the job summary to ${path}: ${(error as Error).message}`);
  }
}

/** `oc adm inspect` of the unstable operators, where oc is installed; killed when `signal` aborts. */
async function ocAdmInspect(operators: string[], dir: string, kubeconfig: string, signal: AbortSignal): Promise<void> {
  const probe = await getExecOutput('oc', ['version', '--client'], { silent: true, ignoreReturnCode: true }).catch(() => undefined);
  if (!probe || probe.exitCode !== 0 || signal.aborted) return;
  const config = join(process.env.RUNNER_TEMP || tmpdir(), `ofi-inspect-${process.pid}.kubeconfig`);
  writeFileSync(config, kubeconfig, { mode: 0o600 });
  try {
    const args = ['adm', 'inspect', ...operators.map((o) => `clusteroperator/${o}`), `--dest-dir=${dir}`];
    await new Promise<void>((resolve, reject) => {
      const child = spawn('oc', args, { signal, stdio: 'ignore', env: { ...process.env, KUBECONFIG: config } });
      child.on('error', (error) => (error.name === 'AbortError' ? reject(new Error('stopped at the end of the budget')) : resolve()));
      child.on('close', () => resolve());
    });
  } finally {
    rmSync(config, { force: true });
  }
}
