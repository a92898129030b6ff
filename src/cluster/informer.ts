import { setTimeout as sleep } from 'node:timers/promises';
import type { Log } from '../log.ts';
import { AccessRefused, statusOf } from './errors.ts';
import { NO_REFUSALS, nextRefusalStreak, refusalIsFinal, type RefusalStreak } from './retry-policy.ts';
import { Store, type ListPage } from './store.ts';

export type InformerEvent = 'ADDED' | 'MODIFIED' | 'DELETED' | 'SYNC';

/** How one informer is doing, for the service's metrics and health check. */
export interface InformerStats {
  readonly kind: string;
  /** The first list succeeded. */
  readonly synced: boolean;
  /** When a list last succeeded (ms since the epoch; 0: never). */
  readonly lastListAt: number;
  /** When a watch last delivered an event or a bookmark (0: never). */
  readonly lastEventAt: number;
  /** Watches that ended and were started again. */
  readonly watchRestarts: number;
}

export interface InformerSource<T> {
  readonly kind: string;
  /** The resource as RBAC names it (`clusteroperators.config.openshift.io`), for a refusal; default kind. */
  readonly resource?: string;
  /** The list's first page; `next` reads the one after it (all pages are one snapshot). */
  list(): Promise<ListPage>;
  /** Starts a watch from resourceVersion; resolves to a stopper. done() is called once when it ends. */
  watch(
    resourceVersion: string,
    onEvent: (type: string, object: unknown) => void,
    done: (error: unknown) => void,
  ): Promise<{ stop(): void }>;
  convert(object: unknown): T;
  key(item: T): string;
}

interface Failure {
  readonly step: 're-list' | 'watch';
  readonly error: unknown;
}

export interface InformerOptions {
  /** The wait after the nth failure in a row (a seam for tests; default backoffMs). */
  readonly backoffMs?: (failures: number) => number;
  /**
   * Called once per streak when the list or watch is refused for good (retry-policy.ts's
   * refusalIsFinal). The informer goes on retrying; whoever awaits it decides to give up.
   */
  readonly onRefused?: (error: AccessRefused) => void;
  /** The clock (a seam for tests; default Date.now). */
  readonly now?: () => number;
}

/** The one backoff of a failing list or watch: 0.5 s doubling to 5 s. */
export function backoffMs(failures: number): number {
  return Math.min(250 * 2 ** Math.min(failures, 5), 5000);
}

/**
 * A local cache of one kind, kept by client-go's reflector loop: list when there is no
 * resourceVersion to resume from, watch from it until the watch ends, after a failure wait the
 * backoff, and again. A 410 Gone (compacted history) or an ERROR event forgets the
 * resourceVersion, so the next turn lists. A periodic re-list runs beside the watch: a watch can
 * stall without ending (a proxy or load balancer that drops the stream silently).
 */
export class Informer<T> {
  private readonly store: Store<T>;
  private readonly listeners: Array<(event: InformerEvent, item: T | undefined) => void> = [];
  private readonly stopping = new AbortController();
  /**
   * Failed lists and watches since the last success (the backoff grows with it; a refusal is
   * warned once per streak), and the 401/403s in a row since a list or a watch was last allowed.
   */
  private readonly streak: { failures: number; refusalWarned: boolean; refusals: RefusalStreak; refusalReported: boolean } = {
    failures: 0,
    refusalWarned: false,
    refusals: NO_REFUSALS,
    refusalReported: false,
  };
  private readonly counters = { lastListAt: 0, lastEventAt: 0, watchRestarts: 0 };
  /** The list in flight: the loop and the periodic re-list share it rather than race two snapshots. */
  private listing: Promise<void> | undefined;
  private starting: Promise<void> | undefined;
  private readonly source: InformerSource<T>;
  private readonly pollMs: number;
  private readonly log: Log;
  private readonly backoff: (failures: number) => number;
  private readonly options: InformerOptions;

  constructor(source: InformerSource<T>, pollMs: number, log: Log, options: InformerOptions = {}) {
    this.source = source;
    this.pollMs = pollMs;
    this.log = log;
    this.backoff = options.backoffMs ?? backoffMs;
    this.options = options;
    this.store = new Store(source);
  }

  /** Returns a function that removes the listener. */
  onChange(listener: (event: InformerEvent, item: T | undefined) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const at = this.listeners.indexOf(listener);
      if (at >= 0) this.listeners.splice(at, 1);
    };
  }

  values(): T[] {
    return this.store.values();
  }

  keys(): string[] {
    return this.store.keys();
  }

  get size(): number {
    return this.store.size;
  }

  get(key: string): T | undefined {
    return this.store.get(key);
  }

  stats(): InformerStats {
    return { kind: this.source.kind, synced: this.counters.lastListAt > 0, ...this.counters };
  }

  /**
   * Resolves after the first list (rejects if it fails); watching and re-listing go on until
   * stop(). Called again (an informer shared by two watchers), it returns the first call's promise.
   */
  start(): Promise<void> {
    this.starting ??= this.run();
    return this.starting;
  }

  private async run(): Promise<void> {
    await this.list();
    if (this.stopped) return;
    void this.listAndWatch();
    void this.relistPeriodically();
  }

  /** Ends the watch, the waits and the periodic re-list at once; a list in flight is dropped. */
  stop(): void {
    this.stopping.abort();
  }

  private get stopped(): boolean {
    return this.stopping.signal.aborted;
  }

  /** One turn lists (when there is no resourceVersion to resume from) or watches; a failed turn waits the backoff. */
  private async listAndWatch(): Promise<void> {
    while (!this.stopped) {
      const resourceVersion = this.store.resourceVersion;
      const failure = resourceVersion === '' ? await this.tryList() : await this.watch(resourceVersion);
      if (!failure || this.stopped) continue;
      if (statusOf(failure.error) === 410) this.store.forgetResourceVersion();
      this.recordFailure(failure.step, failure.error);
      await this.pause(this.backoff(this.streak.failures));
    }
  }

  private async relistPeriodically(): Promise<void> {
    while (await this.pause(this.pollMs)) {
      // A list the loop has in flight serves as this re-list.
      if (this.listing) continue;
      const failure = await this.tryList();
      if (failure && !this.stopped) this.recordFailure(failure.step, failure.error);
    }
  }

  private async tryList(): Promise<Failure | undefined> {
    try {
      await this.list();
      return undefined;
    } catch (error) {
      return { step: 're-list', error };
    }
  }

  private list(): Promise<void> {
    this.listing ??= this.listOnce().finally(() => (this.listing = undefined));
    return this.listing;
  }

  private async listOnce(): Promise<void> {
    let page = await this.source.list();
    if (this.stopped) return;
    // Each page is applied as it comes, so a long list is never held whole.
    const list = this.store.beginList(page.resourceVersion);
    list.add(page.items);
    while (page.next) {
      page = await page.next();
      if (this.stopped) return;
      list.add(page.items);
    }
    this.counters.lastListAt = Date.now();
    list.finish();
    this.recordSuccess();
    this.recordAllowed();
    this.emit('SYNC', undefined);
  }

  /** Resolves when the watch ends: the server closed it or it failed (a Failure), an ERROR event, stop(). */
  private watch(resourceVersion: string): Promise<Failure | undefined> {
    return new Promise((resolve) => {
      let handle: { stop(): void } | undefined;
      let settled = false;
      let abandoned = false;
      const settle = (error: unknown) => {
        if (settled) return;
        settled = true;
        this.stopping.signal.removeEventListener('abort', abandon);
        if (!this.stopped) this.counters.watchRestarts++;
        resolve(error ? { step: 'watch', error } : undefined);
      };
      const abandon = () => {
        abandoned = true;
        handle?.stop();
        settle(undefined);
      };
      this.stopping.signal.addEventListener('abort', abandon, { once: true });
      const onEvent = (type: string, object: unknown) => {
        if (!settled && !this.stopped && this.applyWatchEvent(type, object) === 'expired') abandon();
      };
      this.source.watch(resourceVersion, onEvent, settle).then((started) => {
        handle = started;
        this.recordAllowed();
        if (abandoned) started.stop();
      }, settle);
    });
  }

  private applyWatchEvent(type: string, object: unknown): 'expired' | undefined {
    this.recordSuccess();
    if (type === 'ERROR') {
      // The server reports an expired resourceVersion as an ERROR event carrying a Status.
      const code = (object as { code?: number } | undefined)?.code;
      this.log.debug(`watch of ${this.source.kind} reported ${code ?? 'an error'}; re-listing`);
      this.store.forgetResourceVersion();
      return 'expired';
    }
    this.counters.lastEventAt = Date.now();
    const change = this.store.applyEvent(type, object);
    if (change) this.emit(change.event, change.item);
    return undefined;
  }

  /** Waits ms unless stopped first; resolves to whether the informer is still running. */
  private async pause(ms: number): Promise<boolean> {
    await sleep(ms, undefined, { signal: this.stopping.signal }).catch(() => undefined);
    return !this.stopped;
  }

  private recordSuccess(): void {
    this.streak.failures = 0;
    this.streak.refusalWarned = false;
  }

  /** The server allowed a list or a watch: the identity holds the permission. (A watch event proves nothing: it flows on a watch opened before a revocation.) */
  private recordAllowed(): void {
    this.streak.refusals = NO_REFUSALS;
    this.streak.refusalReported = false;
  }

  /**
   * A failed list or watch is retried for as long as the informer runs. A refusal (401/403 once
   * the retry policy's grace is over) will not clear by itself: say so, once per streak, so that a
   * revoked role or credential shows in the log instead of as a silent wait; and once the
   * refusals are final (retry-policy.ts), tell onRefused, naming the verb and the resource.
   */
  private recordFailure(step: Failure['step'], error: unknown): void {
    this.streak.failures++;
    const now = (this.options.now ?? Date.now)();
    this.streak.refusals = nextRefusalStreak(this.streak.refusals, error, now);
    if (!this.streak.refusalReported && refusalIsFinal(this.streak.refusals, now)) {
      this.streak.refusalReported = true;
      this.options.onRefused?.(new AccessRefused(step === 'watch' ? 'watch' : 'list', this.source.resource ?? this.source.kind, error));
    }
    const message = `${step} of ${this.source.kind} failed: ${(error as Error).message ?? error}`;
    const status = statusOf(error);
    if ((status === 401 || status === 403) && !this.streak.refusalWarned) {
      this.streak.refusalWarned = true;
      this.log.warning(`${message}; still retrying: check the identity's credentials and role (deploy/rbac.yaml)`);
    } else {
      this.log.debug(message);
    }
  }

  private emit(event: InformerEvent, item: T | undefined): void {
    for (const listener of this.listeners) listener(event, item);
  }
}
