// Server-side request counting: the API server's audit log at Metadata level (one line per
// request and stage), read back after a run and grouped by who made each request.
import { createReadStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface AuditRequest {
  auditID: string;
  verb: string;
  user: string;
  impersonated: string | undefined;
  userAgent: string;
  resource: string;
  subresource: string;
  uri: string;
  code: number | undefined;
  /** ms since the epoch, microsecond precision */
  received: number;
}

/** Writes the policy and returns the kube-apiserver flags that enable the audit log. */
export async function auditArgs(dir: string): Promise<{ args: string[]; log: string }> {
  const policy = join(dir, 'audit-policy.yaml');
  const log = join(dir, 'audit.log');
  // Every request at Metadata level (who, what, outcome; no bodies), one event per request:
  // RequestReceived is omitted, watches keep ResponseStarted (a watch may outlive the run).
  await writeFile(
    policy,
    ['apiVersion: audit.k8s.io/v1', 'kind: Policy', 'omitStages: ["RequestReceived"]', 'rules:', '- level: Metadata', ''].join('\n'),
  );
  return {
    args: [`--audit-policy-file=${policy}`, `--audit-log-path=${log}`, '--audit-log-maxsize=2000', '--audit-log-maxbackup=1', '--audit-log-format=json'],
    log,
  };
}

/** Every request in the audit log (each auditID once, with its last stage's status). */
export async function readAudit(file: string): Promise<AuditRequest[]> {
  const byId = new Map<string, AuditRequest>();
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line.startsWith('{')) continue;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const e = JSON.parse(line) as any;
    const previous = byId.get(e.auditID);
    const code: number | undefined = e.responseStatus?.code;
    if (previous) {
      if (code !== undefined) previous.code = code;
      continue;
    }
    byId.set(e.auditID, {
      auditID: e.auditID,
      verb: e.verb,
      user: e.user?.username ?? '',
      impersonated: e.impersonatedUser?.username,
      userAgent: e.userAgent ?? '',
      resource: e.objectRef?.resource ?? '',
      subresource: e.objectRef?.subresource ?? '',
      uri: e.requestURI ?? '',
      code,
      received: parseMicros(e.requestReceivedTimestamp),
    });
  }
  return [...byId.values()].sort((a, b) => a.received - b.received);
}

/** RFC 3339 with microseconds -> ms since the epoch, keeping the sub-millisecond part. */
function parseMicros(text: string | undefined): number {
  if (!text) return NaN;
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(text);
  if (!m) return Date.parse(text);
  const whole = Date.parse(`${m[1]}Z`);
  const frac = m[2] ? Number(`0.${m[2]}`) * 1000 : 0;
  return whole + frac;
}

export interface RequestBreakdown {
  total: number;
  /** SelfSubjectAccessReviews, discovery and other one-off requests */
  startup: number;
  initialLists: number;
  initialWatches: number;
  approvals: number;
  /** approval PUTs answered 200 */
  approved: number;
  relists: number;
  rewatches: number;
  gets: number;
  other: number;
  /** total minus startup, initial lists and initial watches */
  beyondListWatch: number;
}

/** Groups one client's requests; the first list and first watch of each resource are "initial". */
export function breakdown(requests: AuditRequest[]): RequestBreakdown {
  const seenList = new Set<string>();
  const seenWatch = new Set<string>();
  const b: RequestBreakdown = { total: requests.length, startup: 0, initialLists: 0, initialWatches: 0, approvals: 0, approved: 0, relists: 0, rewatches: 0, gets: 0, other: 0, beyondListWatch: 0 };
  for (const r of requests) {
    if (r.resource === 'selfsubjectaccessreviews' || (r.resource === '' && r.verb === 'get')) {
      b.startup++;
    } else if (r.verb === 'list') {
      if (seenList.has(r.resource)) b.relists++;
      else {
        seenList.add(r.resource);
        b.initialLists++;
      }
    } else if (r.verb === 'watch') {
      if (seenWatch.has(r.resource)) b.rewatches++;
      else {
        seenWatch.add(r.resource);
        b.initialWatches++;
      }
    } else if (r.verb === 'update' && r.subresource === 'approval') {
      b.approvals++;
      if (r.code === 200 || r.code === 201) b.approved++;
    } else if (r.verb === 'get') {
      b.gets++;
    } else {
      b.other++;
    }
  }
  b.beyondListWatch = b.total - b.startup - b.initialLists - b.initialWatches;
  return b;
}
