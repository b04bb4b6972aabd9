// Stage "sample": the step's questions, from the seeded sampler whose cursor checkpoints restore.
import type { RunConfig } from "../../../contracts/index.js";
import type { QuestionSampler } from "../question-sampler.js";
import type { TrainingItem } from "../types.js";

export function sampleQuestions(sampler: QuestionSampler<TrainingItem>, config: RunConfig): TrainingItem[] {
  return sampler.next(config.grpo.questionsPerStep);
}
