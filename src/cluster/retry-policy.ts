import { statusOf } from './errors.ts';

/**
 * Which failed calls are tried again, and what a failure says about the connection. Pure: the
 * one ConnectionTracker (retry.ts) keeps the state and withRetry asks these functions; nothing
 * here reads a clock.
 */
export const RETRY = {
  minTimeoutMs: 200,
  maxTimeoutMs: 5000,
  factor: 2,
  /** Until one call has succeeded, an unreachable server is more likely a wrong address than a restart. */
  firstContactMs: 15_000,
  /**
   * How long after the server answers again, following a lost connection, a 401/403 is still
   * taken for a restarting server whose authorization caches are not filled yet (DOMAIN 8).
   */
  authGraceMs: 5000,
  /**
   * An informer's list or watch refused with 401/403 this many times in a row, over at least
   * refusalFinalMs, is refused for good (a revoked role or credential). A single refusal is not
   * final: right after an API server restart it answers 403 until its caches fill (DOMAIN 8).
   */
  refusalFinalCount: 3,
  refusalFinalMs: 10_000,
} as const;

/**
 * - `answered`: the server sent an HTTP status.
 * - `connection-lost`: no answer (refused, reset, DNS, TLS): the server may be restarting.
 * - `aborted`: the action stopped the call itself (cancellation, a watch stopped at a deadline).
 * - `timed-out`: a client-side timeout the action chose (per request, a watch's idle timer, a budget).
 * - `refused-by-proxy`: the proxy itself said no to the tunnel (4xx: forbidden, authentication); final.
 * - `no-credential`: nothing was sent, the kubeconfig's tokenFile or exec plugin gave no credential; final.
 */
export type FailureCause = 'answered' | 'connection-lost' | 'aborted' | 'timed-out' | 'refused-by-proxy' | 'no-credential';

export function failureCause(error: unknown): FailureCause {
  if (statusOf(error) !== undefined) return 'answered';
  const name = (error as { name?: unknown } | null)?.name;
  const proxyStatus = (error as { proxyStatus?: unknown } | null)?.proxyStatus;
  if (name === 'CredentialError') return 'no-credential';
  if (name === 'ProxyError' && typeof proxyStatus === 'number' && proxyStatus < 500) return 'refused-by-proxy';
  // node:https reports a request ended by its own AbortSignal.timeout() as an AbortError caused by
  // the TimeoutError: a call that hangs while etcd is stopped ends so, and is tried again.
  if (name === 'AbortError') return (error as { cause?: { name?: unknown } }).cause?.name === 'TimeoutError' ? 'timed-out' : 'aborted';
  if (name === 'TimeoutError') return 'timed-out';
  return 'connection-lost';
}

export interface ConnectionState {
  /** When a connection last failed without an answer (0: never). */
  readonly lostAt: number;
  /** When the server first answered properly after that (0: not yet). */
  readonly backAt: number;
}

export const CONNECTED: ConnectionState = { lostAt: 0, backAt: 0 };

/**
 * The state after a call or watch ended with `error` (undefined: an answer that is not an
 * error). Only a real loss of connection opens the 401/403 grace; the action's own aborts and
 * timeouts say nothing about the server. 429 and 5xx do not count as back: a starting server
 * answers 5xx before it serves.
 */
export function nextConnectionState(state: ConnectionState, error: unknown, now: number): ConnectionState {
  const cause = error === undefined ? 'answered' : failureCause(error);
  if (cause === 'connection-lost') return { lostAt: now, backAt: 0 };
  if (cause !== 'answered' || state.lostAt === 0 || state.backAt !== 0) return state;
  const status = error === undefined ? 200 : statusOf(error)!;
  return status === 429 || status >= 500 ? state : { ...state, backAt: now };
}

export function inAuthGrace(state: ConnectionState, now: number): boolean {
  return state.lostAt !== 0 && (state.backAt === 0 || now - state.backAt < RETRY.authGraceMs);
}

/**
 * Whether a failed call is worth another attempt: no answer, a timeout of ours, 429, 5xx, and a
 * 401/403 within the grace after a lost connection unless the caller wants forbidden to be final
 * (a diagnostics read). The action's own abort is never retried.
 */
export function isRetryable(error: unknown, state: ConnectionState, now: number, options: { forbiddenIsFinal?: boolean } = {}): boolean {
  const cause = failureCause(error);
  if (cause === 'aborted' || cause === 'refused-by-proxy' || cause === 'no-credential') return false;
  if (cause !== 'answered') return true;
  const status = statusOf(error)!;
  if (status === 429 || status >= 500) return true;
  if (status === 401 || status === 403) return !options.forbiddenIsFinal && inAuthGrace(state, now);
  return false;
}

/** How long one call may keep retrying: its own limit, the first-contact limit, a caller's deadline. */
export function retryBudgetMs(options: { retryForMs: number; everConnected: boolean; now: number; deadline?: number }): number {
  const own = options.everConnected ? options.retryForMs : Math.min(options.retryForMs, RETRY.firstContactMs);
  return Math.max(0, Math.min(own, options.deadline === undefined ? Infinity : options.deadline - options.now));
}

/** An informer's refusals in a row: how many, and when the first came (0: none). */
export interface RefusalStreak {
  readonly count: number;
  readonly since: number;
}

export const NO_REFUSALS: RefusalStreak = { count: 0, since: 0 };

/**
 * The streak after a failed list or watch: a 401/403 extends it; any other failure ends it (a lost
 * connection means the server may be restarting, so the refusals after it start a new streak).
 */
export function nextRefusalStreak(streak: RefusalStreak, error: unknown, now: number): RefusalStreak {
  const status = statusOf(error);
  if (status !== 401 && status !== 403) return NO_REFUSALS;
  return { count: streak.count + 1, since: streak.count === 0 ? now : streak.since };
}

/** Whether the refusals are final: several in a row, and for longer than a restarting server's caches take. */
export function refusalIsFinal(streak: RefusalStreak, now: number): boolean {
  return streak.count >= RETRY.refusalFinalCount && now - streak.since >= RETRY.refusalFinalMs;
}
