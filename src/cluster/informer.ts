import type { Log } from '../log.ts';
import { statusOf } from './errors.ts';

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
  list(): Promise<{ items: unknown[]; resourceVersion: string }>;
  /** Starts a watch from resourceVersion; resolves to a stopper. done() is called once when it ends. */
  watch(
    resourceVersion: string,
    onEvent: (type: string, object: unknown) => void,
    done: (error: unknown) => void,
  ): Promise<{ stop(): void }>;
  convert(object: unknown): T;
  key(item: T): string;
}

/**
 * A local cache of one kind: list, then watch from the list's resourceVersion; a watch that
 * ends is resumed from the last resourceVersion seen, a 410 Gone (compacted history) re-lists.
 * A periodic re-list backs the watch up, so a silently stalled watch cannot hide an object.
 */
export class Informer<T> {
  private readonly items = new Map<string, T>();
  /** resourceVersion of each cached item, and of each item a watch saw deleted (tombstones). */
  private readonly versions = new Map<string, number>();
  private readonly tombstones = new Map<string, number>();
  private readonly listeners: Array<(event: InformerEvent, item: T | undefined) => void> = [];
  private resourceVersion = '';
  private stopped = false;
  private currentWatch: { stop(): void } | undefined;
  private relistTimer: NodeJS.Timeout | undefined;
  private rewatchTimer: NodeJS.Timeout | undefined;
  private watchFailures = 0;
  /** a 401/403 of this failure streak has been reported */
  private refusedWarned = false;
  private lastListAt = 0;
  private lastEventAt = 0;
  private watchRestarts = 0;
  private readonly source: InformerSource<T>;
  private readonly pollMs: number;
  private readonly log: Log;

  constructor(source: InformerSource<T>, pollMs: number, log: Log) {
    this.source = source;
    this.pollMs = pollMs;
    this.log = log;
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
    return [...this.items.values()];
  }

  get(key: string): T | undefined {
    return this.items.get(key);
  }

  stats(): InformerStats {
    return { kind: this.source.kind, synced: this.lastListAt > 0, lastListAt: this.lastListAt, lastEventAt: this.lastEventAt, watchRestarts: this.watchRestarts };
  }

  /** Resolves after the first list; watching and re-listing go on until stop(). */
  async start(): Promise<void> {
    await this.relist();
    this.startWatch();
    this.scheduleRelist();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.relistTimer);
    clearTimeout(this.rewatchTimer);
    this.currentWatch?.stop();
  }

  /**
   * Replaces the cache with a list, except where the watch already applied something newer
   * while the list was in flight (a list is a snapshot at its resourceVersion: an item changed,
   * created or deleted after it must not be rolled back).
   */
  private async relist(): Promise<void> {
    const { items, resourceVersion } = await this.source.list();
    if (this.stopped) return;
    this.lastListAt = Date.now();
    const listed = Number(resourceVersion);
    const newer = (version: number | undefined) => version !== undefined && Number.isFinite(listed) && version > listed;
    const seen = new Set<string>();
    for (const raw of items) {
      const item = this.source.convert(raw);
      const key = this.source.key(item);
      seen.add(key);
      if (newer(this.versions.get(key)) || newer(this.tombstones.get(key))) continue;
      this.items.set(key, item);
      this.versions.set(key, versionOf(raw));
    }
    for (const key of [...this.items.keys()]) {
      if (!seen.has(key) && !newer(this.versions.get(key))) {
        this.items.delete(key);
        this.versions.delete(key);
      }
    }
    for (const [key, version] of this.tombstones) if (!newer(version)) this.tombstones.delete(key);
    if (!(Number(this.resourceVersion) > listed)) this.resourceVersion = resourceVersion;
    this.refusedWarned = false;
    this.emit('SYNC', undefined);
  }

  private scheduleRelist(): void {
    if (this.stopped) return;
    this.relistTimer = setTimeout(() => {
      this.relist()
        .catch((error: unknown) => this.failed('re-list', error))
        .finally(() => this.scheduleRelist());
    }, this.pollMs);
  }

  private startWatch(): void {
    if (this.stopped) return;
    let ended = false;
    const onEvent = (type: string, object: unknown) => {
      if (this.stopped || ended) return;
      this.watchFailures = 0;
      this.refusedWarned = false;
      if (type !== 'ERROR') this.lastEventAt = Date.now();
      const rv = (object as { metadata?: { resourceVersion?: string } } | undefined)?.metadata?.resourceVersion;
      if (type === 'BOOKMARK') {
        if (rv) this.resourceVersion = rv;
        return;
      }
      if (type === 'ERROR') {
        // The server reports an expired resourceVersion as an ERROR event carrying a Status.
        const code = (object as { code?: number } | undefined)?.code;
        this.log.debug(`watch of ${this.source.kind} reported ${code ?? 'an error'}; re-listing`);
        this.resourceVersion = '';
        return;
      }
      if (type !== 'ADDED' && type !== 'MODIFIED' && type !== 'DELETED') return;
      const item = this.source.convert(object);
      const key = this.source.key(item);
      if (rv) this.resourceVersion = rv;
      if (type === 'DELETED') {
        this.items.delete(key);
        this.versions.delete(key);
        this.tombstones.set(key, versionOf(object));
      } else {
        this.items.set(key, item);
        this.versions.set(key, versionOf(object));
      }
      this.emit(type, item);
    };
    const done = (error: unknown) => {
      if (ended) return;
      ended = true;
      if (this.stopped) return;
      this.watchRestarts++;
      if (error) {
        this.watchFailures++;
        if (statusOf(error) === 410) this.resourceVersion = '';
        this.failed('watch', error);
      }
      const delay = error ? Math.min(250 * 2 ** Math.min(this.watchFailures, 5), 5000) : 0;
      this.rewatchTimer = setTimeout(() => void this.resume(), delay);
    };
    this.source.watch(this.resourceVersion, onEvent, done).then(
      (w) => {
        this.currentWatch = w;
        if (this.stopped) w.stop();
      },
      done,
    );
  }

  private async resume(): Promise<void> {
    if (this.stopped) return;
    if (this.resourceVersion === '') {
      try {
        await this.relist();
      } catch (error) {
        this.watchFailures++;
        this.failed('re-list', error);
        this.rewatchTimer = setTimeout(() => void this.resume(), Math.min(250 * 2 ** Math.min(this.watchFailures, 5), 5000));
        return;
      }
    }
    this.startWatch();
  }

  /**
   * A failed list or watch is retried for as long as the informer runs. A refusal (401/403 once
   * the retry policy's grace is over) will not clear by itself: say so, once per streak, so that a
   * revoked role or credential shows in the log instead of as a silent wait.
   */
  private failed(what: string, error: unknown): void {
    const message = `${what} of ${this.source.kind} failed: ${(error as Error).message ?? error}`;
    const status = statusOf(error);
    if ((status === 401 || status === 403) && !this.refusedWarned) {
      this.refusedWarned = true;
      this.log.warning(`${message}; still retrying: check the identity's credentials and role (deploy/rbac.yaml)`);
    } else {
      this.log.debug(message);
    }
  }

  private emit(event: InformerEvent, item: T | undefined): void {
    for (const listener of this.listeners) listener(event, item);
  }
}

/** resourceVersions are etcd revisions in practice; NaN (never "newer") if one is not a number. */
function versionOf(object: unknown): number {
  return Number((object as { metadata?: { resourceVersion?: string } } | undefined)?.metadata?.resourceVersion ?? NaN);
}
