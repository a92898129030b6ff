import { appendFileSync } from 'node:fs';
import type { Log } from '../log.ts';
import { toOutputs, type RunReport } from '../report/report.ts';
import { renderSummary } from '../report/summary.ts';

/** Where an entry point puts the outcome of a run. */
export interface PublishTarget {
  /** For the warnings of the summary. */
  readonly log: Log;
  /** Without GITHUB_STEP_SUMMARY the action warns; the CLI, often run outside a workflow, does not. */
  readonly summaryFileExpected: boolean;
  /** The outputs: the action sets them, the CLI prints them. */
  outputs(report: RunReport): void;
  failed(message: string): void;
  succeeded(message: string): void;
}

/** The outputs, then the job summary (when `summary`), then the outcome: the same for every entry point. */
export function publish(report: RunReport, summary: boolean, target: PublishTarget): void {
  target.outputs(report);
  if (summary) writeJobSummary(report, target);
  if (report.result !== 'success') target.failed(report.failure || `finish-install ended with result ${report.result}`);
  else target.succeeded(`finish-install succeeded in ${toOutputs(report)['duration-seconds']}s`);
}

function writeJobSummary(report: RunReport, target: PublishTarget): void {
  const path = process.env.GITHUB_STEP_SUMMARY;
  if (!path) {
    if (target.summaryFileExpected) target.log.warning('GITHUB_STEP_SUMMARY is not set: no job summary written');
    return;
  }
  try {
    appendFileSync(path, renderSummary(report));
  } catch (error) {
    target.log.warning(`could not write the job summary to ${path}: ${(error as Error).message}`);
  }
}
