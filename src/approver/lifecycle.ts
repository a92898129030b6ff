// The approver's lifecycle: stopped, failed, and the waits that end when something changes.
/** Stopped, failed, and the waits that end when something changes. */
export class Lifecycle {
  stopped = false;
  private failure: Error | undefined;
  private readonly waiters: Array<() => void> = [];
  private readonly onStops: Array<() => void> = [];

  stop(): void {
    this.stopped = true;
    for (const fn of this.onStops.splice(0)) fn();
    this.wake();
  }

  /** Runs `fn` at stop() (a listener's unsubscriber: a shared informer outlives the approver). */
  onStop(fn: () => void): void {
    this.onStops.push(fn);
  }

  fail(error: Error): void {
    this.failure = error;
    this.wake();
  }

  throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }

  /** Until the next wake(), or `ms`. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = Number.isFinite(ms) ? setTimeout(resolve, ms) : undefined;
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }
}
