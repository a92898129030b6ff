/** Where the core writes its story; the entry points decide how lines reach a person. */
export interface Log {
  info(message: string): void;
  warning(message: string): void;
  debug(message: string): void;
}

export const silentLog: Log = { info() {}, warning() {}, debug() {} };

/** Lines of one phase, tagged: the phases overlap, and GitHub log groups cannot. */
export function tagged(log: Log, tag: string): Log {
  return {
    info: (message) => log.info(`[${tag}] ${message}`),
    warning: (message) => log.warning(`[${tag}] ${message}`),
    debug: (message) => log.debug(`[${tag}] ${message}`),
  };
}
