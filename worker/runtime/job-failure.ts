// Whether a failed job is worth another attempt. A retry costs a model load and a learner start, and
// a failure that will happen again the same way (a missing model, a model the learner cannot read, a
// request the server rejects as invalid) only hides its reason behind "attempt 3 of 3"; so only what
// can go differently next time is retried: lost connections, crashes, timeouts, internal errors.
import { IcrlApiError, OutboxStreamFailed, classifyFailure, type FailureKind } from "../../client-sdk/src/index.js";
import { LearnerError } from "../learner/index.js";
import { JobInputError } from "./errors.js";

/** Codes the learner answers with when the request or the model itself is at fault (see icrl_learner/errors.py). */
// out_of_memory: the same config on the same machine runs out again; the error says what to lower.
const DETERMINISTIC_LEARNER_CODES = new Set(["bad_request", "unsupported_model", "state_mismatch", "non_finite", "out_of_memory"]);

export function isRetryableJobFailure(failure: unknown): boolean {
  if (failure instanceof JobInputError) return false;
  if (failure instanceof LearnerError) return !(failure.details.remote && DETERMINISTIC_LEARNER_CODES.has(failure.code));
  // The server understood the request and refused it (BAD_USER_INPUT, a batch over its size limit):
  // sending the same thing again gets the same answer.
  if (failure instanceof OutboxStreamFailed) return !refused(failure.kind);
  if (failure instanceof IcrlApiError) return !refused(classifyFailure(failure));
  return true;
}

const refused = (kind: FailureKind) => kind === "fatal" || kind === "too-large";
