/** Where the core writes its story; the entry points decide how lines reach a person. */
export interface Log {
  info(message: string): void;
  warning(message: string): void;
  debug(message: string): void;
}

export const silentLog: Log = { info() {}, warning() {}, debug() {} };
