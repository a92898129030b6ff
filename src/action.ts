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

const INSPECT_TIMEOUT_MS = 120_000;

/** `oc adm inspect` of the unstable operators, where oc is installed; bounded in time. */
async function ocAdmInspect(operators: string[], dir: string, kubeconfig: string): Promise<void> {
  const probe = await getExecOutput('oc', ['version', '--client'], { silent: true, ignoreReturnCode: true }).catch(() => undefined);
  if (!probe || probe.exitCode !== 0) return;
  const config = join(process.env.RUNNER_TEMP || tmpdir(), `ofi-inspect-${process.pid}.kubeconfig`);
  writeFileSync(config, kubeconfig, { mode: 0o600 });
  try {
    const args = ['adm', 'inspect', ...operators.map((o) => `clusteroperator/${o}`), `--dest-dir=${dir}`];
    const inspect = getExecOutput('oc', args, { silent: true, ignoreReturnCode: true, env: { ...process.env, KUBECONFIG: config } as Record<string, string> });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`oc adm inspect took longer than ${INSPECT_TIMEOUT_MS / 1000}s`)), INSPECT_TIMEOUT_MS);
    });
    await Promise.race([inspect, timeout]).finally(() => clearTimeout(timer));
  } finally {
    rmSync(config, { force: true });
  }
}
