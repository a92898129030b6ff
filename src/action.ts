import { appendFileSync } from 'node:fs';
import * as core from '@actions/core';
import { ClusterGateway } from './cluster/gateway.ts';
import { loadKubeConfig } from './cluster/kubeconfig.ts';
import { DeadlineError, finishInstall } from './finish.ts';
import type { Log } from './log.ts';
import { newReport, toOutputs, type RunReport } from './report/report.ts';
import { renderSummary } from './report/summary.ts';
import { InputError, parseSettings, type Settings } from './settings/settings.ts';

/** The GitHub Action shell: inputs in, the runbook, outputs and the job summary out. */
export async function run(): Promise<void> {
  const report = newReport(Date.now(), core.getInput('dry-run').trim() === 'true');
  const cancel = new AbortController();
  const onSignal = (signal: string) => {
    core.warning(`received ${signal}: stopping and reporting what is known`);
    cancel.abort();
  };
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  process.once('SIGINT', () => onSignal('SIGINT'));
  if (core.getInput('kubeconfig').trim()) core.setSecret(core.getInput('kubeconfig').trim());

  let settings: Settings | undefined;
  try {
    settings = parseSettings((name) => core.getInput(name));
    const kubeconfig = loadKubeConfig(settings.kubeconfig, settings.context);
    for (const secret of kubeconfig.secrets) core.setSecret(secret);
    const log: Log = { info: core.info, warning: core.warning, debug: core.debug };
    const gateway = new ClusterGateway(kubeconfig.config, { log, signal: cancel.signal });
    log.info(`cluster ${gateway.server} (kubeconfig from ${kubeconfig.source})${settings.dryRun ? ', dry-run: nothing will be written' : ''}`);
    await finishInstall(settings, report, { gateway, log, signal: cancel.signal, group: (title, fn) => core.group(title, fn) });
    report.result = 'success';
  } catch (error) {
    report.result = error instanceof DeadlineError ? 'timeout' : 'error';
    report.failure = error instanceof InputError || error instanceof DeadlineError ? error.message : (error as Error).message ?? String(error);
  } finally {
    report.finishedAt = Date.now();
    publish(report, settings?.summary ?? core.getInput('summary').trim() !== 'false');
  }
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
