// Stage "learn": one GRPO update on the step's samples (none when every group was filtered out).
import type { LearnerDriver, StepMetrics, TrainingSample } from "../../learner/driver.js";

export async function learnFrom(learner: Pick<LearnerDriver, "step">, samples: TrainingSample[]): Promise<StepMetrics | null> {
  return samples.length > 0 ? learner.step(samples) : null;
}
