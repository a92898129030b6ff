// When the --watch service takes a changed nodes file. Pure: each reading of the file and a clock
// in, the machines to list (or nothing) out. An editor or a config tool that rewrites the file in
// place leaves it half-written for a moment, and a half-written list that parses would unlist
// machines: a change is taken only once the file has held the same content for a settle time.

/** How long a changed nodes file must keep the same content before it is taken. */
export const NODES_FILE_SETTLE_MS = 2000;

/** Distinct unusable contents remembered, so two bad versions written in turn are not warned about again and again. */
const WARNED_KEPT = 64;

/** One reading of the file: its text, or why it could not be read. */
export type NodesFileReading = { readonly text: string } | { readonly error: string };

export interface NodesFileReloadOptions<T> {
  /** The content the service started with. */
  readonly initial?: string;
  readonly settleMs?: number;
  /** The machines of a content; throws (with the reason) when it is not usable. */
  readonly parse: (text: string) => T;
  /** Told once per distinct unusable content (not on every reading). */
  readonly warn: (reason: string) => void;
}

export class NodesFileReload<T> {
  /** The content in use. */
  private applied: string | undefined;
  /** A content that differs from it, and since when it has been read unchanged. */
  private candidate: { readonly key: string; readonly since: number } | undefined;
  /** The unusable contents warned about since a content was last taken (at most WARNED_KEPT). */
  private readonly warned = new Set<string>();
  private readonly options: NodesFileReloadOptions<T>;

  constructor(options: NodesFileReloadOptions<T>) {
    this.options = options;
    this.applied = options.initial;
  }

  /** The content in use is now `text` (the first read, at the start). */
  started(text: string): void {
    this.applied = text;
  }

  /** The machines to list after this reading, or undefined: keep the list. */
  next(reading: NodesFileReading, now: number): T | undefined {
    if ('text' in reading && reading.text === this.applied) {
      this.candidate = undefined;
      return undefined;
    }
    const key = 'text' in reading ? `text:${reading.text}` : `error:${reading.error}`;
    if (this.candidate?.key !== key) {
      this.candidate = { key, since: now };
      return undefined;
    }
    if (now - this.candidate.since < (this.options.settleMs ?? NODES_FILE_SETTLE_MS)) return undefined;
    let nodes: T;
    try {
      if ('error' in reading) throw new Error(reading.error);
      nodes = this.options.parse(reading.text);
    } catch (error) {
      if (!this.warned.has(key)) {
        this.options.warn((error as Error).message);
        if (this.warned.size >= WARNED_KEPT) this.warned.delete(this.warned.values().next().value!);
        this.warned.add(key);
      }
      return undefined;
    }
    this.applied = (reading as { text: string }).text;
    this.candidate = undefined;
    this.warned.clear();
    return nodes;
  }
}
