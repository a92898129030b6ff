import { chartText } from '../escape.ts';
import type { RunReport } from './report.ts';

/** One bar of the chart: the time up to a milestone, or the wait still open at the end. */
export interface Bar {
  readonly label: string;
  readonly from: number;
  readonly to: number;
  /** `waiting`: the row's goal was not reached when the run ended. */
  readonly kind: 'client' | 'serving' | 'ready' | 'registry' | 'operators' | 'waiting';
}

/** A row of the chart and of the short table above it: a listed node, the registry or the operators. */
export interface TimelineRow {
  readonly name: string;
  readonly bars: readonly Bar[];
  /** Offsets (ms from the start) of the milestones reached, by kind. */
  readonly at: Partial<Record<Bar['kind'], number>>;
}

const NODE_MILESTONES = { 'client approved': 'client', 'serving issued': 'serving', ready: 'ready' } as const;
const WORDS = { client: 'client approved', serving: 'serving issued', ready: 'Ready', registry: 'ready', operators: 'stable', waiting: 'waiting' } as const;

/** `+0.4s`, `+12.3s`, `+2m05.4s`, `+1h02m05.4s`: an offset from the start, in tenths of a second. */
export function offsetText(ms: number): string {
  const tenths = Math.max(0, Math.round(ms / 100));
  const [h, m, s] = [Math.floor(tenths / 36_000), Math.floor((tenths % 36_000) / 600), `${Math.floor((tenths % 600) / 10)}.${tenths % 10}s`];
  if (h > 0) return `+${h}h${String(m).padStart(2, '0')}m${s.padStart(5, '0')}`;
  return m > 0 ? `+${m}m${s.padStart(5, '0')}` : `+${s}`;
}

/** Bars from the start through each milestone in time order, then the open wait if the goal was missed. */
function barsOf(milestones: Array<{ kind: Bar['kind']; at: number }>, runStart: number, from: number, end: number, done: boolean, waitingFor: string): Bar[] {
  const bars: Bar[] = [];
  for (const m of milestones.sort((a, b) => a.at - b.at)) {
    bars.push({ label: `${WORDS[m.kind]} ${offsetText(m.at - runStart)}`, from, to: m.at, kind: m.kind });
    from = m.at;
  }
  if (!done) bars.push({ label: `waiting for ${waitingFor}`, from, to: Math.max(from, end), kind: 'waiting' });
  return bars;
}

/**
 * The rows of the timeline, derived from the report: each listed node (client approved, serving
 * issued, Ready), the image registry and the ClusterOperators. The runbook waits for the
 * registry and the operators once the nodes are done, so their bars start there.
 */
export function timelineRows(report: RunReport): TimelineRow[] {
  const start = report.startedAt;
  const end = report.finishedAt;
  const rows: TimelineRow[] = [];
  // Each node's first time per milestone, in one pass (a 2000-machine run has 10000 entries).
  const byNode = new Map<string, Map<Bar['kind'], number>>();
  for (const { node, event, at } of report.timeline) {
    const kind = NODE_MILESTONES[event as keyof typeof NODE_MILESTONES];
    if (node === undefined || !kind) continue;
    let milestones = byNode.get(node);
    if (!milestones) byNode.set(node, (milestones = new Map()));
    if (!milestones.has(kind)) milestones.set(kind, at);
  }
  for (const node of report.nodes) {
    const milestones = byNode.get(node.name) ?? new Map<Bar['kind'], number>();
    const lacks = [!node.clientApproved && 'client approval', !node.servingIssued && 'serving certificate', !node.ready && 'Ready'].filter(Boolean).join(', ');
    const done = node.ready && node.servingIssued;
    rows.push({ name: node.name, bars: barsOf([...milestones].map(([kind, at]) => ({ kind, at })), start, start, end, done, lacks), at: offsets(milestones, start) });
  }
  const nodesDone = Math.max(start, ...rows.flatMap((r) => r.bars.filter((b) => b.kind !== 'waiting').map((b) => b.to)));
  const runEvent = (event: string) => report.timeline.find((t) => t.node === undefined && t.event === event)?.at;
  if (report.registry && !report.dryRun) {
    const ready = runEvent('registry ready');
    const milestones = ready === undefined ? [] : [{ kind: 'registry' as const, at: ready }];
    rows.push({ name: 'image registry', bars: barsOf(milestones, start, Math.min(nodesDone, ready ?? nodesDone), end, ready !== undefined, 'the registry'), at: ready === undefined ? {} : { registry: ready - start } });
  }
  const stable = runEvent('operators stable');
  if (stable !== undefined || report.operatorCounts.total > 0) {
    const milestones = stable === undefined ? [] : [{ kind: 'operators' as const, at: stable }];
    rows.push({ name: 'ClusterOperators', bars: barsOf(milestones, start, Math.min(nodesDone, stable ?? nodesDone), end, stable !== undefined, 'stable operators'), at: stable === undefined ? {} : { operators: stable - start } });
  }
  return rows;
}

function offsets(milestones: Map<Bar['kind'], number>, start: number): TimelineRow['at'] {
  return Object.fromEntries([...milestones].map(([kind, at]) => [kind, at - start]));
}

/** Mermaid stops rendering above 50,000 characters of source (its maxTextSize); so does GitHub. */
const MAX_CHART_NODES = 60;
const TASK_STATE = { client: '', serving: 'active, ', ready: 'done, ', registry: 'done, ', operators: 'done, ', waiting: 'crit, ' } as const;

/**
 * The timeline as a Mermaid gantt chart (GitHub renders it in a job summary): one row per listed
 * node, then the registry and the operators, bars placed at their real times (the axis shows
 * the reader's local clock). With many nodes only the slowest are drawn. '' when there is
 * nothing to draw (no milestone, or a dry-run).
 */
export function renderGantt(report: RunReport): string {
  if (report.dryRun) return '';
  const rows = timelineRows(report);
  if (!rows.some((r) => r.bars.length > 0) || report.timeline.length === 0) return '';
  const nodeRows = rows.slice(0, report.nodes.length);
  const doneAt = (r: TimelineRow) => (r.bars.some((b) => b.kind === 'waiting') ? Infinity : Math.max(...r.bars.map((b) => b.to)));
  const slowest = new Set([...nodeRows].sort((a, b) => doneAt(b) - doneAt(a)).slice(0, MAX_CHART_NODES));
  const shown = [...nodeRows.filter((r) => slowest.has(r)), ...rows.slice(report.nodes.length)];
  const started = new Date(report.startedAt).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  const lines = [
    '```mermaid',
    '---',
    'displayMode: compact',
    '---',
    'gantt',
    `  title ${nodeRows.length > MAX_CHART_NODES ? `The ${MAX_CHART_NODES} slowest of ${nodeRows.length} nodes; run` : 'Run'} started ${started}`,
    '  dateFormat x',
    '  axisFormat %H:%M:%S',
    '  todayMarker off',
  ];
  let id = 0;
  for (const row of shown) {
    lines.push(`  section ${chartText(row.name)}`);
    // The bars of a row sit side by side (compact mode) and are often too short for their words,
    // which Mermaid then writes beside them, over the next bar: so the last bar of a row carries
    // the words of all, and the others a zero-width space (a task needs some text).
    row.bars.forEach((bar, i) => {
      const text = i === row.bars.length - 1 ? chartText(row.bars.map((b) => b.label).join(', ')) : '#8203;';
      lines.push(`    ${text}:${TASK_STATE[bar.kind]}t${id++}, ${Math.round(bar.from)}, ${Math.max(0, Math.round(bar.to - bar.from))}ms`);
    });
  }
  lines.push('```');
  return lines.join('\n');
}
