// How likely a lookup model is to open its answer with a search, read off its log-probs rather than
// sampled: P(the response begins "<search>" | the prompt), averaged over questions. A sampled rate of 0
// in a few hundred rollouts says only "below ~1%"; this says whether training moved the probability at
// all, which is what tells "the k-shot training did not carry over to zero-shot prompts" apart from "it
// carried over a little, too little to be sampled" (REPLICATION.md).
import type { LlamaEngine } from "../../worker/engine/index.js";
import { lookupDemonstrations, renderLookupPrompt, type LookupItem } from "./lookup-task.js";

/** Mean over `questions` of P(response starts with `opening`) with `shots` worked examples in the prompt. */
export async function openingProbability(
  engine: LlamaEngine,
  questions: readonly LookupItem[],
  options: { shots: number; examples: readonly LookupItem[]; opening?: string },
): Promise<number> {
  const demonstrations = lookupDemonstrations(options.examples);
  // The response's own tokens after the prompt's, as the rollout loop samples them (exact for the
  // lookup models' byte vocabulary; a BPE tokenizer could merge across the boundary).
  const opening = engine.tokenize(options.opening ?? "<search>");
  let total = 0;
  for (const item of questions) {
    const prompt = renderLookupPrompt(engine, item, options.shots, demonstrations);
    const logProbs = await engine.logProbs([...prompt.tokens, ...opening], { from: prompt.tokens.length - 1 });
    total += Math.exp(logProbs.reduce((a, b) => a + b, 0));
  }
  return total / questions.length;
}
