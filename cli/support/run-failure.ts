// Why a run failed, or why its last attempt did, in words for `run show` and `run watch`. A run that
// is queued again after a failed attempt has no error of its own (it may still succeed); the job's
// error is the only place that says what went wrong and how many attempts are left.
import type { RunDetail } from "./resolve.js";

export function failureLines(run: Pick<RunDetail, "status" | "error" | "jobs">): [string, string][] {
  const job = run.jobs.at(-1);
  if (run.status === "FAILED") {
    const attempts = job ? ` (after ${job.attempts} of ${job.maxAttempts} attempt${job.maxAttempts === 1 ? "" : "s"})` : "";
    return [["failed because", `${run.error ?? "no reason was recorded"}${attempts}`]];
  }
  if ((run.status === "QUEUED" || run.status === "RUNNING") && job?.error && job.attempts > 0) {
    return [["last attempt", `failed (attempt ${job.attempts} of ${job.maxAttempts}), retrying: ${job.error}`]];
  }
  return [];
}
