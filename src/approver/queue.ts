export interface WorkQueueOptions {
  /** Names worked on at once. */
  readonly concurrency: number;
  /** Lower runs first, ties by name; read when a name is queued. */
  readonly priority: (name: string) => number;
  /** Nothing is queued and nothing is being worked on. */
  readonly onIdle?: () => void;
  /** The work threw (it should not: this is the last resort, so one bad name cannot stop the queue). */
  readonly onError?: (name: string, error: unknown) => void;
}

/** Work done synchronously in a row before the queue lets the event loop read the watch streams. */
const YIELD_EVERY = 32;

/**
 * A work queue of object names, client-go's shape: a name is queued at most once; a name added
 * while it is being worked on is queued again when that work ends (so the worker always sees
 * the latest object, and never two workers one name); a failed item is put back with addAfter.
 */
export class WorkQueue {
  private readonly heap: Array<{ name: string; priority: number }> = [];
  private readonly queued = new Set<string>();
  private readonly working = new Set<string>();
  /** Added while being worked on. */
  private readonly again = new Set<string>();
  private readonly later = new Map<string, NodeJS.Timeout>();
  private readonly work: (name: string) => Promise<void> | void;
  private readonly options: WorkQueueOptions;
  private stopped = false;
  private sinceYield = 0;

  constructor(work: (name: string) => Promise<void> | void, options: WorkQueueOptions) {
    this.work = work;
    this.options = options;
  }

  add(name: string): void {
    this.addAll([name]);
  }

  /** Queues all of `names` before any starts, so that the first to run is the first by priority. */
  addAll(names: Iterable<string>): void {
    if (this.stopped) return;
    for (const name of names) {
      if (this.working.has(name)) this.again.add(name);
      else if (!this.queued.has(name)) {
        this.queued.add(name);
        this.push({ name, priority: this.options.priority(name) });
      }
    }
    this.pump();
  }

  /** Queues `name` after `ms` (a retry); a retry already waiting for it stands. */
  addAfter(name: string, ms: number): void {
    if (this.stopped || this.later.has(name)) return;
    this.later.set(
      name,
      setTimeout(() => {
        this.later.delete(name);
        this.add(name);
      }, ms),
    );
  }

  /** Something is queued or being worked on (retries waiting for their time do not count). */
  get busy(): boolean {
    return this.queued.size > 0 || this.working.size > 0;
  }

  get size(): number {
    return this.queued.size;
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.later.values()) clearTimeout(timer);
    this.later.clear();
    this.heap.length = 0;
    this.queued.clear();
    this.again.clear();
  }

  private pump(): void {
    while (!this.stopped && this.working.size < this.options.concurrency && this.heap.length > 0) {
      const { name } = this.pop();
      this.queued.delete(name);
      this.working.add(name);
      void this.run(name);
    }
  }

  private async run(name: string): Promise<void> {
    try {
      await this.work(name);
    } catch (error) {
      this.options.onError?.(name, error);
    }
    this.working.delete(name);
    if (this.again.delete(name)) this.add(name);
    if (++this.sinceYield >= YIELD_EVERY) {
      this.sinceYield = 0;
      await new Promise((resolve) => setImmediate(resolve));
    }
    this.pump();
    if (!this.busy) this.options.onIdle?.();
  }

  // A binary heap: a thousand machines queue two thousand names at once.
  private push(item: { name: string; priority: number }): void {
    const heap = this.heap;
    heap.push(item);
    for (let i = heap.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  private pop(): { name: string; priority: number } {
    const heap = this.heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      for (let i = 0; ; ) {
        const left = 2 * i + 1;
        const right = left + 1;
        let best = i;
        if (left < heap.length && before(heap[left]!, heap[best]!)) best = left;
        if (right < heap.length && before(heap[right]!, heap[best]!)) best = right;
        if (best === i) break;
        [heap[i], heap[best]] = [heap[best]!, heap[i]!];
        i = best;
      }
    }
    return top;
  }
}

const before = (a: { name: string; priority: number }, b: { name: string; priority: number }): boolean =>
  a.priority < b.priority || (a.priority === b.priority && a.name < b.name);

/**
 * Runs tasks at most `size` at once, in the order given (the approver's approvals: decided in
 * priority order, sent in that order).
 */
export class Pool {
  private readonly waiting: Array<() => Promise<void>> = [];
  private running = 0;
  private readonly size: number;
  private readonly onIdle: () => void;

  constructor(size: number, onIdle: () => void) {
    this.size = size;
    this.onIdle = onIdle;
  }

  run(task: () => Promise<void>): void {
    this.waiting.push(task);
    this.next();
  }

  /** A task is running or waiting. */
  get busy(): boolean {
    return this.running > 0 || this.waiting.length > 0;
  }

  /** Drops the tasks not started yet. */
  stop(): void {
    this.waiting.length = 0;
  }

  private next(): void {
    while (this.running < this.size && this.waiting.length > 0) {
      const task = this.waiting.shift()!;
      this.running++;
      void task()
        .catch(() => undefined)
        .finally(() => {
          this.running--;
          this.next();
          if (!this.busy) this.onIdle();
        });
    }
  }
}
