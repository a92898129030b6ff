import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { statusOf } from '../cluster/errors.ts';
import { describeRule, type PermissionCheck } from '../cluster/permission-check.ts';
import type { EventInfo } from '../cluster/objects.ts';
import { outputJson } from '../escape.ts';
import type { Log } from '../log.ts';
import { toOutputs, type RunReport } from './report.ts';

/** Diagnostics are read after a deadline has passed: all of it together gets this long. */
export const DIAGNOSTICS_BUDGET_MS = 5000;
/** Node event reads in flight at once. */
const PARALLEL_READS = 8;

/** The rule that allows reading node events (deploy/rbac.yaml grants it; custom roles often lack it). */
export const NODE_EVENTS_PERMISSION: PermissionCheck = { verb: 'list', group: '', resource: 'events', namespace: 'default' };

export interface ReadLimits {
  readonly deadline: number;
  readonly signal: AbortSignal;
}

export interface DiagnosticSources {
  /** Must not retry a 401/403: a forbidden read is reported, not waited on. */
  readonly nodeEvents: (node: string, limits: ReadLimits) => Promise<EventInfo[]>;
  /** Extra collection into `dir` (oc adm inspect), stopped when `signal` aborts. */
  readonly inspect?: (operators: string[], dir: string, signal: AbortSignal) => Promise<void>;
}

/** A read diagnostics could not make, and what would allow it. */
export interface NotReadable {
  readonly read: string;
  readonly reason: string;
  /** The error as the server (or the client) put it. */
  readonly detail: string;
  /** The RBAC rule that would allow the read (when it was refused). */
  readonly permission?: string;
}

/**
 * Writes what a person needs to see why the gate failed, without a second job: the unstable
 * operators, the nodes not Ready with their events, the requests left Pending and why. Only data
 * the run already holds or reads here; no certificate, request or credential. Everything read
 * here shares one budget (the run's deadline has passed already): a refused read is recorded in
 * not-readable.json with the rule that would allow it, never retried.
 */
export async function writeDiagnostics(dir: string, report: RunReport, sources: DiagnosticSources, log: Log, budgetMs = DIAGNOSTICS_BUDGET_MS): Promise<string> {
  const limits: ReadLimits = { deadline: Date.now() + budgetMs, signal: AbortSignal.timeout(budgetMs) };
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const write = (name: string, data: unknown) => writeFileSync(join(dir, name), `${outputJson(data, 2)}\n`);
  // As the step will set them: the run ends now, and this folder is its diagnostics-path.
  write('outputs.json', { ...toOutputs({ ...report, finishedAt: Date.now(), diagnosticsPath: dir }), failure: report.failure });
  write('operators.json', report.unstableOperatorDetails.length > 0 ? report.unstableOperatorDetails : report.unstableOperators);
  write('csrs-refused.json', report.refusedCsrs);
  write('csrs-approved.json', report.approvedCsrs);
  const notReadable: NotReadable[] = [];
  const nodes = await inBatches(report.nodesMissing, PARALLEL_READS, async (missing): Promise<{ node: string; lacks: string; events: EventInfo[] | string }> => {
    const read = `list events of Node ${missing.node}`;
    try {
      if (limits.signal.aborted) throw new Error(`not attempted: the diagnostics budget of ${budgetMs / 1000}s was spent`);
      return { ...missing, events: await sources.nodeEvents(missing.node, limits) };
    } catch (error) {
      const entry = notReadableEntry(read, error, NODE_EVENTS_PERMISSION);
      notReadable.push(entry);
      return { ...missing, events: `not readable: ${entry.reason}${entry.permission ? `; allowed by ${entry.permission}` : ''}` };
    }
  });
  write('nodes-not-ready.json', nodes);
  write('not-readable.json', notReadable);
  if (sources.inspect && report.unstableOperators.length > 0 && !limits.signal.aborted) {
    try {
      await sources.inspect(report.unstableOperators.map((o) => o.name).filter((n) => n !== '(none)'), join(dir, 'inspect'), limits.signal);
    } catch (error) {
      log.warning(`oc adm inspect did not complete within the diagnostics budget: ${(error as Error).message}`);
    }
  }
  if (notReadable.length > 0) log.warning(`diagnostics: ${notReadable.length} read(s) not possible, listed in not-readable.json (${notReadable[0]!.reason})`);
  log.info(`diagnostics written to ${dir}`);
  return dir;
}

/**
 * A run that succeeded but had to cut a list output (see LIST_OUTPUT_LIMITS) keeps the full lists
 * here, so the audit that reads the output can still see every entry.
 */
export function writeFullLists(dir: string, report: RunReport, log: Log): string {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(join(dir, 'csrs-refused.json'), `${outputJson(report.refusedCsrs, 2)}\n`);
    writeFileSync(join(dir, 'csrs-approved.json'), `${outputJson(report.approvedCsrs, 2)}\n`);
  } catch (error) {
    log.warning(`could not write the full lists of requests to ${dir}: ${(error as Error).message}`);
    return '';
  }
  log.info(`${report.refusedCsrs.length} refused and ${report.approvedCsrs.length} approved requests: more than the outputs hold; the full lists are in ${dir} (csrs-refused.json, csrs-approved.json)`);
  return dir;
}

/** A failed read in words: refused (with the rule that allows it), or out of time, or another failure. */
export function notReadableEntry(read: string, error: unknown, permission: PermissionCheck): NotReadable {
  const status = statusOf(error);
  const message = (error as Error | undefined)?.message ?? String(error);
  if (status === 401 || status === 403) return { read, reason: `forbidden (HTTP ${status})`, detail: message, permission: describeRule(permission) };
  return { read, reason: statusOf(error) === undefined ? 'no answer within the diagnostics budget' : `HTTP ${status}`, detail: message };
}

async function inBatches<T, R>(items: readonly T[], size: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += size) results.push(...(await Promise.all(items.slice(i, i + size).map(fn))));
  return results;
}
