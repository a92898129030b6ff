export interface TimelineEntry {
  readonly at: number;
  readonly node: string;
  readonly event: 'client approved' | 'serving approved' | 'registered' | 'serving issued' | 'ready';
}

/**
 * When each listed node reached each step. The action keeps every entry of its run; the
 * --watch service lives for months and keeps only each node's latest time per event.
 */
export class Timeline {
  private readonly entries: TimelineEntry[] = [];
  private readonly latestOnly: boolean;

  constructor(latestOnly: boolean) {
    this.latestOnly = latestOnly;
  }

  record(entry: TimelineEntry): void {
    if (this.latestOnly) {
      const previous = this.entries.findIndex((e) => e.node === entry.node && e.event === entry.event);
      if (previous >= 0) this.entries.splice(previous, 1);
    }
    this.entries.push(entry);
  }

  /** A machine no longer listed takes its entries with it. */
  forgetNode(node: string): void {
    for (let i = this.entries.length - 1; i >= 0; i--) if (this.entries[i]!.node === node) this.entries.splice(i, 1);
  }

  get all(): readonly TimelineEntry[] {
    return this.entries;
  }
}
