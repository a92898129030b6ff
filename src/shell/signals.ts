/**
 * A signal that aborts on the first SIGINT or SIGTERM (a cancelled job, Ctrl-C, systemd stop),
 * after `announce` says so: the run then stops and reports what it knows.
 */
export function stopOnSignals(announce: (message: string) => void): AbortSignal {
  const cancel = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      announce(`received ${signal}: stopping and reporting what is known`);
      cancel.abort();
    });
  }
  return cancel.signal;
}
