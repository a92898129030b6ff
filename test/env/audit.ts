// The API server's audit log, for tests that must know who made a request: a dry run writes
// nothing *as the action*, whatever the simulator (a pool operator publishing its status, a
// kubelet filing a request) writes meanwhile. ControlPlane.writes() counts every user's writes,
// so a simulator's write that lands during the run was counted against the action.
//   const audit = auditLog();
//   const bed = sharedControlPlane({ apiServerArgs: audit.apiServerArgs });
//   const mark = audit.mark(); ...run...; audit.requests({ user: ACTION_USER, since: mark })
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface AuditedRequest {
  user: string;
  verb: string;
  uri: string;
  code: number;
  /** objectRef.resource ('' for non-resource URLs) */
  resource: string;
}

export interface AuditLog {
  /** kube-apiserver flags that write every request's metadata to this log (blocking mode: written before the response). */
  readonly apiServerArgs: string[];
  /** A point in the log: requests() with `since` returns only the requests completed after it. */
  mark(): number;
  /** Completed requests, oldest first; `writes: true` keeps the mutating ones that store something. */
  requests(filter?: { user?: string; since?: number; writes?: boolean }): AuditedRequest[];
  remove(): void;
}

const MUTATING = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

// Metadata only: who, what and the answer, never a body (secrets, tokens).
const POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
`;

export function auditLog(): AuditLog {
  const dir = mkdtempSync(join(tmpdir(), 'ofi-audit-'));
  const policy = join(dir, 'policy.yaml');
  const path = join(dir, 'audit.log');
  writeFileSync(policy, POLICY);
  const lines = (): string[] => {
    try {
      // the last piece is '' or a line still being written
      return readFileSync(path, 'utf8').split('\n').slice(0, -1);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
  };
  return {
    apiServerArgs: [`--audit-policy-file=${policy}`, `--audit-log-path=${path}`, '--audit-log-mode=blocking'],
    mark: () => lines().length,
    requests({ user, since = 0, writes = false } = {}) {
      return lines()
        .slice(since)
        .map((line) => JSON.parse(line))
        .filter((e) => e.stage === 'ResponseComplete')
        .map((e): AuditedRequest => ({ user: e.user?.username ?? '', verb: e.verb, uri: e.requestURI, code: e.responseStatus?.code ?? 0, resource: e.objectRef?.resource ?? '' }))
        .filter((r) => user === undefined || r.user === user)
        // access reviews answer a question and store nothing
        .filter((r) => !writes || (MUTATING.has(r.verb) && !r.resource.endsWith('accessreviews')));
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
