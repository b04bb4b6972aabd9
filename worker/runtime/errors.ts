// Errors of the worker's own: what no retry can fix. How failed server calls are classified is the
// SDK's delivery kit (client-sdk/src/delivery/failures.ts).

/** A job cannot run here for a reason a retry will not fix (bad model path, bad config...). */
export class JobInputError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "JobInputError";
  }
}

/** A learner metric came back NaN or infinite: the model or the learning rate is broken, and so is every later step. */
export class NonFiniteMetricError extends JobInputError {
  constructor(key: string, value: number, step: number) {
    super(`${key} is ${value} at step ${step}: the model's weights or the learning rate may be broken`);
    this.name = "NonFiniteMetricError";
  }
}
