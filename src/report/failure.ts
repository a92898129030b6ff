import type { Findings } from './report.ts';

/** The things a run waits for; a failure comes from one of them, or from none (cancellation). */
export type Gate = 'nodes' | 'registry' | 'operators';

export interface Outstanding {
  readonly gate: Gate;
  /** What is not done, naming the objects, for a person. */
  readonly text: string;
}

/** How many objects one entry names before "and N more" (the failure line stays one or two lines). */
const NAMED = 5;
const MESSAGE_CHARS = 160;

/**
 * What was not done when the run stopped, read from the report: one entry per gate the run was
 * asked to wait for. Pure.
 */
export function outstandingWork(report: Findings, wanted: { readonly nodes: boolean; readonly registry: boolean; readonly operators: boolean }): Outstanding[] {
  const out: Outstanding[] = [];
  if (wanted.nodes && !report.nodesReady) {
    const lacking = report.nodesMissing.length > 0 ? report.nodesMissing.map((m) => `${m.node} (${m.lacks})`) : report.nodes.filter((n) => !n.ready).map((n) => n.name);
    out.push({ gate: 'nodes', text: `nodes not Ready with serving certificates: ${named(lacking) || 'not yet observed'}` });
  }
  if (wanted.registry && !report.registry?.ready) {
    out.push({ gate: 'registry', text: `image registry not ready${report.registryWaitingFor ? `: waiting for ${report.registryWaitingFor}` : ''}` });
  }
  if (wanted.operators && !report.operatorsStable) {
    const unstable = report.unstableOperators.map((o) => `${o.name} (${clip(o.message)})`);
    const { stable, total } = report.operatorCounts;
    const completion = report.completionLacks.map(clip);
    const operators = unstable.length > 0 ? `ClusterOperators not stable: ${named(unstable, '; ')}` : completion.length > 0 ? '' : `ClusterOperators not awaited to the end (${stable} of ${total} stable when the run stopped)`;
    // ClusterVersion and the pools share the operator wait's deadline: one entry of its gate.
    out.push({ gate: 'operators', text: [operators, named(completion, '; ')].filter(Boolean).join('; ') });
  }
  return out;
}

/**
 * The failure line: what failed first, then "also:" everything else not done. Pure. The entry of
 * the gate that failed is left out: the first failure already says it.
 */
export function failureLine(first: string, failedGate: Gate | undefined, outstanding: readonly Outstanding[]): string {
  const others = outstanding.filter((o) => o.gate !== failedGate).map((o) => o.text);
  if (others.length === 0) return first;
  return `${first.replace(/\.\s*$/, '')}; also: ${others.join('; ')}.`;
}

function named(items: readonly string[], separator = ', '): string {
  const shown = items.slice(0, NAMED).join(separator);
  return items.length > NAMED ? `${shown}${separator}and ${items.length - NAMED} more` : shown;
}

function clip(text: string): string {
  return text.length > MESSAGE_CHARS ? `${text.slice(0, MESSAGE_CHARS - 1)}…` : text;
}
