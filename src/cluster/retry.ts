import pRetry from 'p-retry';
import type { Log } from '../log.ts';
import { retryAfterMs, statusOf, toClusterError } from './errors.ts';
import { CONNECTED, isRetryable, nextConnectionState, RETRY, retryBudgetMs, type ConnectionState } from './retry-policy.ts';

/** Limits a caller puts on one call, on top of the gateway's own. */
export interface CallLimits {
  /** No attempt or retry after this time. */
  readonly deadline?: number;
  /** Aborts the call (and the request in flight). */
  readonly signal?: AbortSignal;
  /** A 401/403 is final even right after a lost connection (a read only diagnostics need). */
  readonly forbiddenIsFinal?: boolean;
}

/**
 * What the calls and watches so far say about the connection, shared by all of them: the
 * state retry-policy.ts reads (a lost connection opens the 401/403 grace) and whether the
 * server ever answered (first contact). record() is its only writer.
 */
export class ConnectionTracker {
  private current: ConnectionState = CONNECTED;
  private answered = false;

  get state(): ConnectionState {
    return this.current;
  }

  /** Until the server has answered once, an unreachable server is more likely a wrong address than a restart. */
  get everConnected(): boolean {
    return this.answered;
  }

  /** A call attempt or a watch ended: with error, or undefined for a success. */
  record(error: unknown, now = Date.now()): void {
    if (error === undefined || statusOf(error) !== undefined) this.answered = true;
    this.current = nextConnectionState(this.current, error, now);
  }
}

export interface RetryContext {
  readonly connection: ConnectionTracker;
  readonly retryForMs: number;
  readonly log: Log;
  /** Aborts every wait and attempt (the caller's limits.signal combined with the gateway's). */
  readonly signal: AbortSignal | undefined;
}

/**
 * Runs attempt until it succeeds or retry-policy.ts says stop: what is retryable (no answer,
 * our timeouts, 429 honouring Retry-After, 5xx, 401/403 just after a lost connection), with
 * jittered exponential backoff, within retryBudgetMs (the call's own limit, the first-contact
 * limit, the caller's deadline). Holds no state of its own: every outcome goes to the tracker.
 */
export async function withRetry<T>(action: string, attempt: () => Promise<T>, context: RetryContext, limits: CallLimits = {}): Promise<T> {
  const { connection, signal } = context;
  return pRetry(
    async () => {
      try {
        const result = await attempt();
        connection.record(undefined);
        return result;
      } catch (error) {
        connection.record(error);
        throw error instanceof Error ? error : new Error(String(error));
      }
    },
    {
      retries: 1000,
      minTimeout: RETRY.minTimeoutMs,
      maxTimeout: RETRY.maxTimeoutMs,
      factor: RETRY.factor,
      randomize: true,
      maxRetryTime: retryBudgetMs({ retryForMs: context.retryForMs, everConnected: connection.everConnected, now: Date.now(), deadline: limits.deadline }),
      signal,
      shouldRetry: async ({ error, retryDelay }) => {
        if (!isRetryable(error, connection.state, Date.now(), limits)) return false;
        context.log.debug(`${toClusterError(action, error).message}; retrying`);
        const wait = retryAfterMs(error);
        if (wait !== undefined && wait > retryDelay) await sleep(wait - retryDelay, signal);
        return true;
      },
    },
  );
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
