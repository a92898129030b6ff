/** Where the core writes its story; the entry points decide how lines reach a person. */
export interface Log {
  info(message: string): void;
  warning(message: string): void;
  debug(message: string): void;
}

export const silentLog: Log = { info() {}, warning() {}, debug() {} };

/**
 * Requester-chosen text (a CN, a SAN, an operator message) must not start a new log line: on a
 * GitHub runner a line beginning with `::` is a workflow command (::add-mask::, ::stop-commands::).
 */
export function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A Log that prints every message as a single line. */
export function singleLineLog(log: Log): Log {
  return {
    info: (message) => log.info(oneLine(message)),
    warning: (message) => log.warning(oneLine(message)),
    debug: (message) => log.debug(oneLine(message)),
  };
}

/** Lines of one phase, tagged: the phases overlap, and GitHub log groups cannot. */
export function tagged(log: Log, tag: string): Log {
  return {
    info: (message) => log.info(`[${tag}] ${message}`),
    warning: (message) => log.warning(`[${tag}] ${message}`),
    debug: (message) => log.debug(`[${tag}] ${message}`),
  };
}
