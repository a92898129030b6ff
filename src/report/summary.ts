import { offsetText, renderGantt, timelineRows } from './gantt.ts';
import { clientCertificatesWarning } from '../identity/policy.ts';
import { markdownText } from '../escape.ts';
import { durationsAsked, operatorsVerdict, shownNames, undeclaredLine, type RunReport } from './report.ts';

/** GitHub rejects a step summary above 1 MiB; keep well below. */
export const SUMMARY_LIMIT = 512 * 1024;
const MAX_ROWS = 200;

function table(headers: string[], rows: unknown[][]): string {
  const shown = rows.slice(0, MAX_ROWS);
  const lines = [`| ${headers.join(' | ')} |`, `|${headers.map(() => ' --- ').join('|')}|`, ...shown.map((r) => `| ${r.map(markdownText).join(' | ')} |`)];
  if (rows.length > shown.length) lines.push(`\n_${rows.length - shown.length} more rows not shown_`);
  return lines.join('\n');
}

const RESULT_WORDS = { success: '✅ success', timeout: '⏱️ timeout', error: '❌ error' } as const;

/**
 * What a reader wants first: the cluster version, how long the install took from the first
 * approval to the gate opening, and on failure the one thing that blocked it.
 */
function headline(report: RunReport): string[] {
  const lines: string[] = [];
  const cv = report.clusterVersion;
  if (cv) {
    const state = cv.completed && cv.available && !cv.progressing && !cv.failing ? 'install complete' : cv.failing ? 'Failing' : cv.progressing ? 'Progressing' : 'not Available';
    lines.push(`**OpenShift ${markdownText(cv.version || 'version unknown')}**: ${state}${cv.failing || (cv.progressing && report.result !== 'success') ? ` (${markdownText(cv.message)})` : ''}.`);
  }
  const firstApproval = report.timeline.find((t) => t.event === 'client approved' || t.event === 'serving approved');
  if (firstApproval && report.result === 'success' && !report.dryRun) {
    lines.push(`Finished ${offsetText(report.finishedAt - firstApproval.at).slice(1)} after the first approval.`);
  }
  if (report.result !== 'success' && report.failure) lines.push(`**Blocked by:** ${markdownText(report.failure.split('; also: ')[0])}`);
  return lines;
}

/** The job summary as Markdown: result, nodes, CSRs, registry, operators, timeline. */
export function renderSummary(report: RunReport): string {
  const parts: string[] = [
    `## OpenShift finish-install: ${RESULT_WORDS[report.result]}${report.dryRun ? ' (dry-run: nothing written)' : ''}`,
    ...headline(report),
    `Ran ${offsetText(report.finishedAt - report.startedAt).slice(1)}.${report.failure ? ` ${markdownText(report.failure)}` : ''}`,
  ];
  if (report.diagnosticsPath) parts.push(`Diagnostics: ${markdownText(report.diagnosticsPath)} (output \`diagnostics-path\`, for actions/upload-artifact).`);
  if (report.nodes.length > 0) {
    parts.push('### Nodes', table(['Node', 'Client approved', 'Serving issued', 'Ready'], report.nodes.map((n) => [n.name, yes(n.clientApproved), yes(n.servingIssued), yes(n.ready)])));
    for (const n of report.nodes) if (n.clientCertificates > 1) parts.push(`> [!WARNING]\n> ${clientCertificatesWarning(markdownText(n.name), n.clientCertificates)}`);
  }
  if (report.undeclared && report.undeclared.names.length > 0) parts.push(undeclaredLine(report.undeclared, markdownText));
  parts.push(
    `### Certificate requests`,
    report.approvedCsrs.length > 0 ? `${report.dryRun ? 'Would approve' : 'Approved'}: ${shownNames(report.approvedCsrs, markdownText)}` : 'None approved by this run.',
  );
  if (report.requestedDurations.length > 0) parts.push(durationsAsked(report.requestedDurations, markdownText));
  if (report.refusedCsrs.length > 0) {
    const asked = report.refusedCsrs.some((r) => r.expirationSeconds !== undefined);
    parts.push(
      'Left Pending (identity did not check out):',
      table(
        ['CSR', 'Node', 'Signer', 'Requestor', 'Reason', ...(asked ? ['Requested duration'] : [])],
        report.refusedCsrs.map((r) => [r.name, r.node, r.signer, r.requestor, r.reason, ...(asked ? [r.expirationSeconds === undefined ? '-' : `${r.expirationSeconds}s`] : [])]),
      ),
    );
  }
  if (report.registry) {
    const r = report.registry;
    parts.push(
      '### Image registry',
      table(
        ['Management', 'Storage', 'Claim', 'Rollout', 'Replicas', 'Changed', 'Ready'],
        [[r.managementState, r.storage, r.claim || '-', r.rolloutStrategy, r.replicas, yes(r.changed), yes(r.ready)]],
      ),
    );
    if (!r.ready && report.registryWaitingFor) parts.push(`Waiting for ${markdownText(report.registryWaitingFor)}`);
  }
  if (!report.registryInstalled) parts.push('### Image registry', 'Not installed: the cluster has the ImageRegistry capability disabled.');
  if (report.clusterVersion || report.pools.length > 0) {
    const cv = report.clusterVersion;
    parts.push(
      '### Completion',
      table(
        ['Signal', 'Done', 'State', 'Message'],
        [
          ...(cv ? [[`ClusterVersion ${cv.version}`, yes(cv.completed && cv.available && !cv.progressing && !cv.failing), `Available=${cv.available} Progressing=${cv.progressing} Failing=${cv.failing}, history ${cv.completed ? 'Completed' : 'Partial'}`, cv.message]] : []),
          ...report.pools.map((p) => [
            `MachineConfigPool ${p.name}`,
            yes(p.updated && !p.degraded && p.machineCount === p.updatedMachineCount && p.machineCount === p.readyMachineCount),
            `${p.updatedMachineCount}/${p.machineCount} updated, ${p.readyMachineCount}/${p.machineCount} ready${p.degraded ? ', Degraded' : ''}`,
            report.completionLacks.find((l) => l.startsWith(`MachineConfigPool ${p.name} `)) ?? '',
          ]),
        ],
      ),
    );
  }
  parts.push('### Cluster operators', `${capitalized(operatorsVerdict(report))}.`);
  if (report.unstableOperators.length > 0) {
    parts.push(
      table(['Operator', 'Available', 'Progressing', 'Degraded', 'Message'], report.unstableOperators.map((o) => [o.name, o.available, o.progressing, o.degraded, o.message])),
    );
  }
  if (report.ignoredOperators.length > 0) parts.push(`Ignored: ${report.ignoredOperators.map((o) => `${markdownText(o.name)} (${o.available}/${o.progressing}/${o.degraded})`).join(', ')}`);
  if (report.timeline.length > 0) {
    parts.push(
      '### Timeline',
      ...timelineOverview(report),
      '<details><summary>Every event</summary>',
      table(['Time', 'What'], report.timeline.map((t) => [offsetText(t.at - report.startedAt), t.node ? `${t.node}: ${t.event}` : t.event])),
      '</details>',
    );
  }
  const text = parts.join('\n\n') + '\n';
  return Buffer.byteLength(text) > SUMMARY_LIMIT ? truncated(text, SUMMARY_LIMIT - 200) : text;
}

/**
 * The first `bytes` bytes of a summary (GitHub's limit is on bytes, and cluster text may be
 * non-ASCII), never half a character, with an open code fence or details block closed.
 */
export function truncated(text: string, bytes: number): string {
  let cut = Buffer.from(text, 'utf8').subarray(0, bytes).toString('utf8').replace(/\uFFFD$/, '');
  if ((cut.match(/^```/gm) ?? []).length % 2 === 1) cut += '\n```';
  const open = (cut.match(/<details>/g) ?? []).length - (cut.match(/<\/details>/g) ?? []).length;
  if (open > 0) cut += '\n\n</details>'.repeat(open);
  return `${cut}\n\n_summary truncated_\n`;
}

const yes = (value: boolean) => (value ? 'yes' : 'no');

const capitalized = (text: string) => `${text[0]!.toUpperCase()}${text.slice(1)}`;

/** When each row got there, as a short table (for readers without Mermaid), then the chart. */
function timelineOverview(report: RunReport): string[] {
  const rows = timelineRows(report);
  if (rows.length === 0) return [];
  const at = (ms: number | undefined, word = '') => (ms === undefined ? '-' : `${offsetText(ms)}${word}`);
  const overview = table(
    ['', 'Client approved', 'Serving issued', 'Ready'],
    rows.map((r) => [r.name, at(r.at.client), at(r.at.serving), r.at.registry !== undefined ? at(r.at.registry, ' (ready)') : r.at.operators !== undefined ? at(r.at.operators, ' (stable)') : at(r.at.ready)]),
  );
  const chart = renderGantt(report);
  return chart ? [overview, chart] : [overview];
}
