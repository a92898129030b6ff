/** A failed cluster call, phrased for a person: what was attempted, the HTTP status and the server's reason. */
export class ClusterError extends Error {
  readonly status: number | undefined;
  readonly reason: string | undefined;
  /** What the server (or the connection) said, without the action and status. */
  readonly detail: string;
  constructor(action: string, status: number | undefined, detail: string, reason?: string) {
    super(`${action} failed: ${status ? `HTTP ${status}${reason ? ` ${reason}` : ''}: ` : ''}${detail}`);
    this.name = 'ClusterError';
    this.status = status;
    this.reason = reason;
    this.detail = detail;
  }
}

/**
 * A list or watch the server keeps refusing (401/403 past the grace, retry-policy.ts): the
 * identity lost the permission or its credential. Final: the run ends with an error, not a timeout.
 */
export class AccessRefused extends Error {
  readonly status: number;
  readonly verb: string;
  /** The resource as RBAC names it: `clusteroperators.config.openshift.io`, `nodes`. */
  readonly resource: string;
  constructor(verb: string, resource: string, error: unknown) {
    const status = statusOf(error) ?? 403;
    const detail = toClusterError(`${verb} ${resource}`, error).detail;
    const what = status === 401 ? 'unauthorized' : 'forbidden';
    const fix = status === 401 ? "renew the identity's credential" : "grant it to the identity's role (deploy/rbac.yaml)";
    super(`${what}: ${verb} ${resource}: ${detail}; ${fix}`);
    this.name = 'AccessRefused';
    this.status = status;
    this.verb = verb;
    this.resource = resource;
  }
}

interface ApiExceptionLike {
  code: number;
  body: unknown;
  headers?: Record<string, string>;
}

export function isApiException(error: unknown): error is ApiExceptionLike {
  return typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'number' && 'body' in error;
}

/** HTTP status of an API error, undefined for a network-level failure. */
export function statusOf(error: unknown): number | undefined {
  if (error instanceof ClusterError) return error.status;
  if (isApiException(error)) return error.code;
  const statusCode = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof statusCode === 'number' ? statusCode : undefined;
}

/**
 * client-node's ApiException message is a multi-line dump of the raw body; keep only the
 * Status message and reason the server sent.
 */
export function toClusterError(action: string, error: unknown): ClusterError {
  if (error instanceof ClusterError) return error;
  if (isApiException(error)) {
    let detail = `the server answered ${error.code}`;
    let reason: string | undefined;
    try {
      const body = typeof error.body === 'string' ? JSON.parse(error.body) : error.body;
      if (body && typeof body === 'object') {
        detail = String((body as { message?: unknown }).message ?? detail);
        reason = (body as { reason?: string }).reason;
      }
    } catch {
      // a non-JSON body (proxy error page): the status code says enough
    }
    return new ClusterError(action, error.code, detail, reason);
  }
  const cause = (error as { cause?: { code?: string; message?: string } } | null)?.cause;
  const message = (error as Error | null)?.message?.split('\n')[0] ?? String(error);
  return new ClusterError(action, statusOf(error), cause?.code ? `${message} (${cause.code})` : message);
}

export function retryAfterMs(error: unknown): number | undefined {
  const header = isApiException(error) ? (error.headers?.['retry-after'] ?? error.headers?.['Retry-After']) : undefined;
  const seconds = header === undefined ? NaN : Number(header);
  return Number.isFinite(seconds) ? seconds * 1000 : undefined;
}
