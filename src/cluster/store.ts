/** What one watch event changed in the cache. */
export interface StoreChange<T> {
  readonly event: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly item: T;
}

/** A page of a list as the server sent it; the last has no `next`. */
export interface ListPage {
  readonly items: unknown[];
  readonly resourceVersion: string;
  readonly next?: (() => Promise<ListPage>) | undefined;
}

/** One list being applied page by page (Store.beginList). */
export interface ListApplier {
  add(objects: readonly unknown[]): void;
  finish(): void;
}

export interface StoreReader<T> {
  convert(object: unknown): T;
  key(item: T): string;
}

/**
 * An informer's cache of one kind, and the resourceVersion it is at. A list is a snapshot at
 * its resourceVersion and a watch event is newer than everything before it in its stream; a
 * list and a watch run side by side, so each item keeps the version it was last seen at (and
 * each item a watch saw deleted a tombstone) and nothing older replaces something newer.
 *
 * An object listed again at the version the cache holds is not converted again: the item kept
 * stays. A --watch service lists every poll interval, and converting every object of every list
 * made each list's items survive into V8's old generation only to replace equal ones, the
 * garbage that made its memory climb (RELIABILITY.md). resourceVersions are etcd revisions,
 * one per write, so a version names one object's one state.
 */
export class Store<T> {
  private readonly items = new Map<string, T>();
  private readonly versions = new Map<string, number>();
  private readonly tombstones = new Map<string, number>();
  /** The item kept at each version, by key and the object's identity (a listed object at a kept version is unchanged). */
  private readonly keptAt = new Map<number, { key: string; identity: string }>();
  private version = '';
  private readonly reader: StoreReader<T>;

  constructor(reader: StoreReader<T>) {
    this.reader = reader;
  }

  /** Where a watch resumes; '' when a list must come first (never listed, or the history expired). */
  get resourceVersion(): string {
    return this.version;
  }

  get size(): number {
    return this.items.size;
  }

  get(key: string): T | undefined {
    return this.items.get(key);
  }

  keys(): string[] {
    return [...this.items.keys()];
  }

  values(): T[] {
    return [...this.items.values()];
  }

  /**
   * Replaces the cache with a list taken at resourceVersion, except where a watch already
   * applied something newer (an item changed, created or deleted after the snapshot).
   */
  applyList(objects: readonly unknown[], resourceVersion: string): void {
    const list = this.beginList(resourceVersion);
    list.add(objects);
    list.finish();
  }

  /**
   * A list read in pages (each page's objects are applied as it arrives and can then be freed):
   * add() each page, then finish() removes what no page had and moves the resourceVersion. All
   * pages of one list are one snapshot at resourceVersion. A list that fails between pages is
   * dropped unfinished: what it added is no older than what the cache had, and nothing is removed.
   */
  beginList(resourceVersion: string): ListApplier {
    const listed = Number(resourceVersion);
    const newer = (version: number | undefined) => version !== undefined && Number.isFinite(listed) && version > listed;
    const seen = new Set<string>();
    return {
      add: (objects) => {
        for (const object of objects) {
          const version = versionOf(object);
          const kept = this.keptAt.get(version);
          if (kept && kept.identity === identityOf(object)) {
            seen.add(kept.key);
            continue;
          }
          const item = this.reader.convert(object);
          const key = this.reader.key(item);
          seen.add(key);
          if (newer(this.versions.get(key)) || newer(this.tombstones.get(key))) continue;
          this.put(key, item, object);
        }
      },
      finish: () => {
        for (const key of [...this.items.keys()]) {
          if (!seen.has(key) && !newer(this.versions.get(key))) this.drop(key);
        }
        for (const [key, version] of this.tombstones) if (!newer(version)) this.tombstones.delete(key);
        this.advance(resourceVersion);
      },
    };
  }

  /**
   * Applies one watch event (ADDED, MODIFIED, DELETED; a BOOKMARK only moves the
   * resourceVersion). Returns what changed, or undefined when nothing did: another type, or an
   * event older than what a list running beside the watch already put in the cache.
   */
  applyEvent(type: string, object: unknown): StoreChange<T> | undefined {
    const resourceVersion = (object as { metadata?: { resourceVersion?: string } } | undefined)?.metadata?.resourceVersion;
    if (type === 'BOOKMARK') {
      this.advance(resourceVersion);
      return undefined;
    }
    if (type !== 'ADDED' && type !== 'MODIFIED' && type !== 'DELETED') return undefined;
    const item = this.reader.convert(object);
    const key = this.reader.key(item);
    const version = versionOf(object);
    this.advance(resourceVersion);
    if (version < (this.versions.get(key) ?? -Infinity)) return undefined;
    if (type === 'DELETED') {
      this.drop(key);
      this.tombstones.set(key, version);
    } else {
      this.put(key, item, object);
    }
    return { event: type, item };
  }

  private put(key: string, item: T, object: unknown): void {
    this.drop(key);
    const version = versionOf(object);
    this.items.set(key, item);
    this.versions.set(key, version);
    if (Number.isFinite(version)) this.keptAt.set(version, { key, identity: identityOf(object) });
  }

  private drop(key: string): void {
    const version = this.versions.get(key);
    if (version !== undefined && this.keptAt.get(version)?.key === key) this.keptAt.delete(version);
    this.items.delete(key);
    this.versions.delete(key);
  }

  /** The server no longer has the history from our resourceVersion (410 Gone): list again. */
  forgetResourceVersion(): void {
    this.version = '';
  }

  /** The one place the resourceVersion moves: forward only, as lists and watch events overlap. */
  private advance(resourceVersion: string | undefined): void {
    if (!resourceVersion) return;
    if (!(Number(this.version) > Number(resourceVersion))) this.version = resourceVersion;
  }
}

/** resourceVersions are etcd revisions in practice; NaN (never "newer") if one is not a number. */
function versionOf(object: unknown): number {
  return Number((object as { metadata?: { resourceVersion?: string } } | undefined)?.metadata?.resourceVersion ?? NaN);
}

/** namespace/name/uid: with the resourceVersion, one object's one state. */
function identityOf(object: unknown): string {
  const metadata = (object as { metadata?: { namespace?: string; name?: string; uid?: string } } | undefined)?.metadata;
  return `${metadata?.namespace ?? ''}/${metadata?.name ?? ''}/${metadata?.uid ?? ''}`;
}
