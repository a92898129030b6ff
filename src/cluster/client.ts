import type { Log } from '../log.ts';
import { ClusterError, toClusterError, type AccessRefused } from './errors.ts';
import { Informer, type InformerSource } from './informer.ts';
import type { ListPage } from './store.ts';
import { resourceOfPath } from './paths.ts';
import { ConnectionTracker, withRetry, type CallLimits } from './retry.ts';
import { failureCause } from './retry-policy.ts';
import type { RequestOptions, Transport } from './transport.ts';

/** One kind an informer caches: where it is listed and watched, how its objects are read. */
export interface InformerSpec<T> {
  readonly kind: string;
  readonly path: string;
  readonly query?: Record<string, string>;
  readonly convert: (o: unknown) => T;
  readonly key: (t: T) => string;
}

export interface ApiClientOptions {
  readonly server: string;
  readonly log: Log;
  /** How long one call keeps retrying transient failures. */
  readonly retryForMs: number;
  /** Aborts every pending call and retry (cancellation, or the run's deadline). */
  readonly signal: AbortSignal | undefined;
}

/** A watch asks the server to end it after this long; no byte for WATCH_IDLE_MS (bookmarks included) means it stalled. */
const WATCH_SECONDS = 300;
/** Objects per list page (client-go's pager reads 500; a CSR is 1-3 KB of JSON). */
const LIST_PAGE_SIZE = 100;
const WATCH_IDLE_MS = (WATCH_SECONDS + 30) * 1000;

/**
 * The domain calls' one way to the API server: a request over the transport, retried by
 * withRetry, its failure worded for a person; and the informers' lists and watches over the
 * same. Every call and watch reports to one ConnectionTracker.
 */
export class ApiClient {
  private readonly transport: Transport;
  private readonly options: ApiClientOptions;
  private readonly connection = new ConnectionTracker();
  /** Who waits for an informer to be refused for good (refused()). */
  private readonly refusalListeners = new Set<(error: AccessRefused) => void>();

  constructor(transport: Transport, options: ApiClientOptions) {
    this.transport = transport;
    this.options = options;
  }

  /** "through proxy http://***@host:port (HTTPS_PROXY)", or '' when the API server is reached directly. */
  describeProxy(): string {
    return this.transport.describeProxy();
  }

  /** One request named `action` for the messages; the caller's limits.signal also aborts the request in flight. */
  async send(action: string, method: string, path: string, request: Omit<RequestOptions, 'signal'> = {}, limits: CallLimits = {}): Promise<unknown> {
    const signals = [this.options.signal, limits.signal].filter((s): s is AbortSignal => s !== undefined);
    const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
    const options: RequestOptions = limits.signal ? { ...request, signal: limits.signal } : request;
    try {
      return await withRetry(action, () => this.transport.request(method, path, options), { connection: this.connection, retryForMs: this.options.retryForMs, log: this.options.log, signal }, limits);
    } catch (error) {
      throw this.explain(action, error);
    }
  }

  informer<T>(pollMs: number, spec: InformerSpec<T>): Informer<T> {
    const source: InformerSource<T> = {
      kind: spec.kind,
      resource: resourceOfPath(spec.path),
      convert: spec.convert,
      key: spec.key,
      list: () => this.listPage(spec, undefined),
      watch: async (resourceVersion, onEvent, done) => {
        const query = new URLSearchParams({ ...spec.query, watch: 'true', allowWatchBookmarks: 'true', timeoutSeconds: String(WATCH_SECONDS), ...(resourceVersion ? { resourceVersion } : {}) });
        return this.transport.watch(
          `${spec.path}?${query.toString()}`,
          onEvent,
          (error: unknown) => {
            // A dropped watch may be the first sign of an API server restart; our own stop of a
            // watch (AbortError) and its idle timer (TimeoutError) are not (see retry-policy.ts).
            if (error) this.connection.record(error);
            done(error);
          },
          WATCH_IDLE_MS,
        );
      },
    };
    return new Informer(source, pollMs, this.options.log, { onRefused: (error) => this.noteRefusal(error) });
  }

  /**
   * One page of a list (LIST_PAGE_SIZE objects at most), with the call that reads the next: a
   * list of thousands of CSRs is never one string and one tree in memory. The pages share the
   * first one's resourceVersion; an expired continue token (410) fails the list, which the
   * informer starts again.
   */
  private async listPage(spec: Pick<InformerSpec<unknown>, 'kind' | 'path' | 'query'>, token: string | undefined): Promise<ListPage> {
    const query = new URLSearchParams({ ...spec.query, limit: String(LIST_PAGE_SIZE), ...(token ? { continue: token } : {}) });
    const result = (await this.send(`list ${spec.kind}`, 'GET', `${spec.path}?${query.toString()}`)) as ListResult;
    const next = result.metadata?.continue;
    return { items: result.items ?? [], resourceVersion: result.metadata?.resourceVersion ?? '', next: next ? () => this.listPage(spec, next) : undefined };
  }

  /**
   * Rejects with the next AccessRefused of any informer of this client; never resolves. `signal`
   * ends the wait (the promise then stays pending, holding nothing).
   */
  refused(signal?: AbortSignal): Promise<never> {
    return new Promise<never>((_resolve, reject) => {
      if (signal?.aborted) return;
      const listener = (error: AccessRefused) => {
        signal?.removeEventListener('abort', forget);
        reject(error);
      };
      const forget = () => this.refusalListeners.delete(listener);
      this.refusalListeners.add(listener);
      signal?.addEventListener('abort', forget, { once: true });
    });
  }

  private noteRefusal(error: AccessRefused): void {
    const listeners = [...this.refusalListeners];
    this.refusalListeners.clear();
    for (const listener of listeners) listener(error);
  }

  /** A server never reached names the address (and proxy) tried and what to check; others keep the call's wording. */
  private explain(action: string, error: unknown): ClusterError {
    const failure = toClusterError(action, error);
    // A plugin or tokenFile that gave no credential says so itself: nothing was sent to the server.
    if (this.connection.everConnected || failure.status !== undefined || failureCause(error) === 'no-credential') return failure;
    const proxy = this.transport.describeProxy();
    const hint = proxy
      ? "check the proxy (HTTPS_PROXY, NO_PROXY or the kubeconfig proxy-url), the kubeconfig's server address and the network"
      : "check the kubeconfig's server address and the network";
    const cause = failure.message.replace(`${action} failed: `, '');
    const via = proxy && !cause.includes('proxy ') ? ` ${proxy}` : '';
    return new ClusterError(action, undefined, `cannot reach the API server at ${this.options.server}${via} (${cause}); ${hint}`);
  }
}

export interface ListResult {
  items?: unknown[];
  metadata?: { resourceVersion?: string; continue?: string };
}
