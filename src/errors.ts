/** A deadline of the run passed: the result is `timeout`, not `error`. */
export class DeadlineError extends Error {}
