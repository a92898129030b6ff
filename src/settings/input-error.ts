// A malformed input, named the way each entry point names its inputs (the action `Input 'x'`, the CLI `Option --x`).

/** How an entry point names an input in a message: the action `Input 'x'`, the CLI `Option --x`. */
export type InputNaming = (input: string) => string;

export const actionInputName: InputNaming = (input) => `Input '${input}'`;

/** A malformed input: names the input and the accepted forms (none: `problem` already says what to do). */
export class InputError extends Error {
  readonly input: string;
  /** The message after the input's name. */
  readonly detail: string;
  constructor(input: string, problem: string, accepted?: string) {
    const detail = accepted === undefined ? problem : `${problem}. Accepted: ${accepted}.`;
    super(`${actionInputName(input)}: ${detail}`);
    this.name = 'InputError';
    this.input = input;
    this.detail = detail;
  }

  /** The message, with the input named the way the entry point names it. */
  named(naming: InputNaming): string {
    return `${naming(this.input)}: ${this.detail}`;
  }
}
