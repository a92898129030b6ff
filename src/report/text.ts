import { terminalText } from '../escape.ts';
import { formatDuration } from '../settings/duration.ts';
import { clientCertificatesWarning } from '../identity/policy.ts';
import { durationsAsked, operatorsVerdict, shownNames, undeclaredLine, type RunReport } from './report.ts';
import { offsetText } from './gantt.ts';

/** Refused requests listed one a line; anyone allowed to create a CSR can add more. */
const REFUSED_LINES = 100;

/** The CLI's readable report: the same facts as the job summary, as plain text. */
export function renderText(report: RunReport): string {
  const lines = [`result: ${report.result}${report.dryRun ? ' (dry-run: nothing written)' : ''} after ${formatDuration(report.finishedAt - report.startedAt)}`];
  if (report.failure) lines.push(`failure: ${terminalText(report.failure)}`);
  if (report.diagnosticsPath) lines.push(`diagnostics: ${terminalText(report.diagnosticsPath)}`);
  if (report.nodes.length > 0) {
    lines.push('', 'nodes:');
    for (const n of report.nodes) {
      lines.push(`  ${terminalText(n.name).padEnd(24)} client ${n.clientApproved ? 'approved' : '-       '}  serving ${n.servingIssued ? 'issued' : '-     '}  ${n.ready ? 'Ready' : 'NotReady'}`);
    }
    for (const n of report.nodes) if (n.clientCertificates > 1) lines.push(`  warning: ${clientCertificatesWarning(terminalText(n.name), n.clientCertificates)}`);
    if (report.undeclared && report.undeclared.names.length > 0) lines.push(`  ${undeclaredLine(report.undeclared, terminalText)}`);
  }
  lines.push('', `CSRs ${report.dryRun ? 'that would be approved' : 'approved'}: ${shownNames(report.approvedCsrs, terminalText) || 'none'}`);
  if (report.requestedDurations.length > 0) lines.push(`  ${durationsAsked(report.requestedDurations, terminalText)}`);
  for (const r of report.refusedCsrs.slice(0, REFUSED_LINES)) {
    lines.push(`  left Pending: ${terminalText(r.name)} (${terminalText(r.node || '?')}, ${terminalText(r.signer)}${r.expirationSeconds === undefined ? '' : `, asks for ${r.expirationSeconds}s`}): ${terminalText(r.reason)}`);
  }
  if (report.refusedCsrs.length > REFUSED_LINES) lines.push(`  and ${report.refusedCsrs.length - REFUSED_LINES} more left Pending (every one in the JSON output and the diagnostics)`);
  if (report.registry) {
    const r = report.registry;
    lines.push('', `registry: ${r.managementState}, ${r.storage}${r.claim ? ` claim ${terminalText(r.claim)}` : ''}, ${r.rolloutStrategy}, ${r.replicas} replica(s), ${r.changed ? 'changed' : 'unchanged'}, ${r.ready ? 'ready' : `not ready${report.registryWaitingFor ? `: waiting for ${terminalText(report.registryWaitingFor)}` : ''}`}`);
  }
  if (!report.registryInstalled) lines.push('', 'registry: not installed (ImageRegistry capability disabled)');
  const cv = report.clusterVersion;
  if (cv) lines.push('', `cluster version: ${terminalText(cv.version)} ${cv.completed && cv.available && !cv.progressing && !cv.failing ? 'complete' : `not complete (Available=${cv.available} Progressing=${cv.progressing} Failing=${cv.failing})${cv.message ? `: ${terminalText(cv.message)}` : ''}`}`);
  for (const p of report.pools) lines.push(`pool ${terminalText(p.name)}: ${p.updatedMachineCount}/${p.machineCount} updated, ${p.readyMachineCount}/${p.machineCount} ready${p.updated ? ', Updated' : ''}${p.degraded ? ', Degraded' : ''}`);
  lines.push('', `operators: ${operatorsVerdict(report)}`);
  for (const o of report.unstableOperators) lines.push(`  ${terminalText(o.name)}: ${terminalText(o.message)}`);
  if (report.timeline.length > 0) {
    lines.push('', 'timeline:');
    for (const e of report.timeline) lines.push(`  ${offsetText(e.at - report.startedAt).padStart(9)}  ${e.node ? `${terminalText(e.node)}: ` : ''}${terminalText(e.event)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** One line of live progress for a terminal. */
export function progressLine(report: RunReport, now: number, deadline: number): string {
  const ready = report.nodes.filter((n) => n.ready).length;
  const parts = [
    report.nodes.length > 0 ? `nodes Ready ${ready}/${report.nodes.length}` : undefined,
    `CSRs approved ${report.approvedCsrs.length}`,
    report.operatorCounts.total > 0 ? `operators stable ${report.operatorCounts.stable}/${report.operatorCounts.total}` : undefined,
    `${formatDuration(Math.max(0, deadline - now))} left`,
  ];
  return parts.filter(Boolean).join(' · ');
}
