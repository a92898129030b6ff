// The one way tests wait for something: a probe polled until it holds, with a deadline and a
// message, so a wait that never ends fails saying what it waited for and what it saw last.
import { inspect } from 'node:util';

export interface UntilOptions {
  /** What is awaited, for the failure ("the renewal approved"). */
  message: string;
  timeoutMs?: number;
  intervalMs?: number;
}

const DEFAULT_TIMEOUT_MS = 20_000;
const DEFAULT_INTERVAL_MS = 100;

type Held<T> = Exclude<T, undefined | null | false>;

/**
 * Polls `probe` until it returns something other than undefined, null or false, and returns that.
 * An error thrown by the probe fails the wait at once: a probe that expects errors catches them.
 */
export function until<T>(probe: () => T | Promise<T>, options: UntilOptions): Promise<Held<T>> {
  return untilObserved(probe, (observed): observed is Held<T> => observed !== undefined && observed !== null && observed !== false, options) as Promise<Held<T>>;
}

/**
 * Polls `observe` until `holds(observed)`, and returns that observation. On the deadline it fails
 * with the message and the last observation (a status, a list, a text), not only "false".
 */
export async function untilObserved<T>(observe: () => T | Promise<T>, holds: (observed: T) => boolean, options: UntilOptions): Promise<T> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const observed = await observe();
    if (holds(observed)) return observed;
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`${options.message}: not within ${timeoutMs} ms (last observed: ${describe(observed)})`);
    await new Promise((resolve) => setTimeout(resolve, Math.min(options.intervalMs ?? DEFAULT_INTERVAL_MS, left)));
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 2000 ? `…${value.slice(-2000)}` : value);
  const text = inspect(value, { depth: 4, breakLength: Infinity });
  return text.length > 2500 ? `${text.slice(0, 2500)}…` : text;
}
