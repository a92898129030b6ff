import { appendFileSync } from 'node:fs';
import * as core from '@actions/core';
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
