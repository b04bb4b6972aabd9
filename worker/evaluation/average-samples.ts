// avg@k: one benchmark item evaluated with k sampled rollouts is stored as one item whose score and
// numeric metrics are the means over the k samples (AIME is reported so: a single sample of 30
// questions is too noisy). The prediction, trajectory and finish reason shown are the first sample's;
// `samples` and `sampleScores` say what was averaged.
import type { BenchmarkItemInput } from "../../client-sdk/src/index.js";

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

export function averageSamples(samples: readonly BenchmarkItemInput[]): BenchmarkItemInput {
  if (samples.length === 0) throw new RangeError("averageSamples needs at least one sample");
  if (samples.length === 1) return samples[0];
  const [first] = samples;
  const metrics = { ...(first.metrics as Record<string, unknown>) };
  for (const [key, value] of Object.entries(metrics)) {
    if (typeof value !== "number") continue;
    metrics[key] = mean(samples.map((s) => (s.metrics as Record<string, unknown>)[key] as number));
  }
  const sampleScores = samples.map((s) => s.score);
  return { ...first, score: mean(sampleScores), metrics: { ...metrics, samples: samples.length, sampleScores } };
}
