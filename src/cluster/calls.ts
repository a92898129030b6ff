import pRetry from 'p-retry';
import type { Log } from '../log.ts';
import { ClusterError, retryAfterMs, statusOf, toClusterError } from './errors.ts';
import { Informer, type InformerSource } from './informer.ts';
import { CONNECTED, isRetryable, nextConnectionState, RETRY, retryBudgetMs, type ConnectionState } from './retry-policy.ts';
import type { Transport } from './transport.ts';

/** Limits a caller puts on one call, on top of the gateway's own. */
export interface CallLimits {
  /** No attempt or retry after this time. */
  readonly deadline?: number;
  /** Aborts the call (and the request in flight). */
  readonly signal?: AbortSignal;
  /** A 401/403 is final even right after a lost connection (a read only diagnostics need). */
  readonly forbiddenIsFinal?: boolean;
}

/** One kind an informer caches: where it is listed and watched, how its objects are read. */
export interface InformerSpec<T> {
  readonly kind: string;
  readonly path: string;
  readonly query?: Record<string, string>;
  readonly convert: (o: unknown) => T;
  readonly key: (t: T) => string;
}

/** A watch asks the server to end it after this long; no byte for WATCH_IDLE_MS (bookmarks included) means it stalled. */
const WATCH_SECONDS = 300;
const WATCH_IDLE_MS = (WATCH_SECONDS + 30) * 1000;

/**
 * The gateway's calls: each one retried as retry-policy.ts says, with one view of the
 * connection shared by every call and watch.
 */
export class Calls {
  private readonly transport: Transport;
  private readonly options: { readonly server: string; readonly log: Log; readonly retryForMs: number; readonly signal: AbortSignal | undefined };
  /** What the last failures said about the connection (see retry-policy.ts). */
  private connection: ConnectionState = CONNECTED;
  /** Until one call has succeeded, an unreachable server is more likely a wrong address than a restart. */
  private everConnected = false;

  constructor(transport: Transport, options: Calls['options']) {
    this.transport = transport;
    this.options = options;
  }

  /**
   * Runs one API call with a per-request timeout, retrying what retry-policy.ts calls retryable
   * (no answer, our timeouts, 429 with Retry-After, 5xx, 401/403 just after a lost connection)
   * with jittered backoff for up to retryForMs, or until the caller's deadline.
   */
  async call<T>(action: string, fn: () => Promise<T>, limits: CallLimits = {}): Promise<T> {
    const signals = [this.options.signal, limits.signal].filter((s): s is AbortSignal => s !== undefined);
    const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
    try {
      return await pRetry(
        async () => {
          try {
            const result = await fn();
            this.everConnected = true;
            this.connection = nextConnectionState(this.connection, undefined, Date.now());
            return result;
          } catch (error) {
            if (statusOf(error) !== undefined) this.everConnected = true;
            this.connection = nextConnectionState(this.connection, error, Date.now());
            throw error instanceof Error ? error : new Error(String(error));
          }
        },
        {
          retries: 1000,
          minTimeout: RETRY.minTimeoutMs,
          maxTimeout: RETRY.maxTimeoutMs,
          factor: RETRY.factor,
          randomize: true,
          maxRetryTime: retryBudgetMs({ retryForMs: this.options.retryForMs, everConnected: this.everConnected, now: Date.now(), deadline: limits.deadline }),
          signal,
          shouldRetry: async ({ error, retryDelay }) => {
            if (!isRetryable(error, this.connection, Date.now(), limits)) return false;
            this.options.log.debug(`${toClusterError(action, error).message}; retrying`);
            const wait = retryAfterMs(error);
            if (wait !== undefined && wait > retryDelay) await sleep(wait - retryDelay, signal);
            return true;
          },
        },
      );
    } catch (error) {
      const failure = toClusterError(action, error);
      if (!this.everConnected && failure.status === undefined) {
        const proxy = this.transport.describeProxy();
        const hint = proxy
          ? "check the proxy (HTTPS_PROXY, NO_PROXY or the kubeconfig proxy-url), the kubeconfig's server address and the network"
          : "check the kubeconfig's server address and the network";
        const cause = failure.message.replace(`${action} failed: `, '');
        const via = proxy && !cause.includes('proxy ') ? ` ${proxy}` : '';
        throw new ClusterError(action, undefined, `cannot reach the API server at ${this.options.server}${via} (${cause}); ${hint}`);
      }
      throw failure;
    }
  }

  informer<T>(pollMs: number, spec: InformerSpec<T>): Informer<T> {
    const source: InformerSource<T> = {
      kind: spec.kind,
      convert: spec.convert,
      key: spec.key,
      list: async () => {
        const query = new URLSearchParams(spec.query).toString();
        const result = (await this.call(`list ${spec.kind}`, () => this.transport.request('GET', `${spec.path}${query ? `?${query}` : ''}`))) as ListResult;
        return { items: result.items ?? [], resourceVersion: result.metadata?.resourceVersion ?? '' };
      },
      watch: async (resourceVersion, onEvent, done) => {
        const query = new URLSearchParams({ ...spec.query, watch: 'true', allowWatchBookmarks: 'true', timeoutSeconds: String(WATCH_SECONDS), ...(resourceVersion ? { resourceVersion } : {}) });
        return this.transport.watch(
          `${spec.path}?${query.toString()}`,
          onEvent,
          (error: unknown) => {
            // A dropped watch may be the first sign of an API server restart; our own stop of a
            // watch (AbortError) and its idle timer (TimeoutError) are not (see retry-policy.ts).
            if (error) this.connection = nextConnectionState(this.connection, error, Date.now());
            done(error);
          },
          WATCH_IDLE_MS,
        );
      },
    };
    return new Informer(source, pollMs, this.options.log);
  }
}

interface ListResult {
  items?: unknown[];
  metadata?: { resourceVersion?: string };
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
