// Stage "learn": one GRPO update on the step's samples (none when every group was filtered out).
// A NaN or infinite log-prob, loss or gradient stops the run (the learner refuses to go on); the
// error it sends says what was not finite, and this stage adds the run's step.
import { LearnerError, type LearnerDriver, type StepMetrics, type TrainingSample } from "../../learner/driver.js";

export async function learnFrom(
  learner: Pick<LearnerDriver, "step">,
  samples: TrainingSample[],
  step: number,
  /** The stage warm-up's learning-rate scale (stage-warmup.ts); 1: the configured lr. */
  lrScale = 1,
): Promise<StepMetrics | null> {
  if (samples.length === 0) return null;
  try {
    return await learner.step(samples, lrScale === 1 ? {} : { lrScale });
  } catch (error) {
    if (!(error instanceof LearnerError) || error.code !== "non_finite") throw error;
    // "step: learner loss is NaN: <cause>" -> "learner loss is NaN at step 3: <cause>"
    const text = error.message.replace(/^step: /, "");
    const cut = text.indexOf(": ");
    const message = cut < 0 ? `${text} at step ${step}` : `${text.slice(0, cut)} at step ${step}${text.slice(cut)}`;
    throw new LearnerError(error.code, message, error.details);
  }
}
