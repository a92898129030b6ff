import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EventInfo } from '../cluster/objects.ts';
import type { Log } from '../log.ts';
import { toOutputs, type RunReport } from './report.ts';

export interface DiagnosticSources {
  readonly nodeEvents: (node: string) => Promise<EventInfo[]>;
  /** Extra collection into `dir` (oc adm inspect), bounded in time by the caller. */
  readonly inspect?: (operators: string[], dir: string) => Promise<void>;
}

/**
 * Writes what a person needs to see why the gate failed, without a second job: the unstable
 * operators, the nodes not Ready with their events, the requests left Pending and why. Only data
 * the run already holds or reads here; no certificate, request or credential.
 */
export async function writeDiagnostics(dir: string, report: RunReport, sources: DiagnosticSources, log: Log): Promise<string> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const write = (name: string, data: unknown) => writeFileSync(join(dir, name), `${JSON.stringify(data, null, 2)}\n`);
  write('outputs.json', { ...toOutputs(report), failure: report.failure });
  write('operators.json', report.unstableOperatorDetails.length > 0 ? report.unstableOperatorDetails : report.unstableOperators);
  write('csrs-refused.json', report.refusedCsrs);
  const nodes = [];
  for (const missing of report.nodesMissing) {
    let events: EventInfo[] | string;
    try {
      events = await sources.nodeEvents(missing.node);
    } catch (error) {
      events = `could not list events: ${(error as Error).message}`;
    }
    nodes.push({ ...missing, events });
  }
  write('nodes-not-ready.json', nodes);
  if (sources.inspect && report.unstableOperators.length > 0) {
    try {
      await sources.inspect(report.unstableOperators.map((o) => o.name).filter((n) => n !== '(none)'), join(dir, 'inspect'));
    } catch (error) {
      log.warning(`oc adm inspect did not complete: ${(error as Error).message}`);
    }
  }
  log.info(`diagnostics written to ${dir}`);
  return dir;
}
