// The real loop on the real engine: node-llama-cpp running a tiny random-weight GGUF. Its output is
// garbage, so the checks are structural: every rollout ends with a finish reason, the ids are what
// the sequence holds, the mask matches the segment kinds, the budgets hold, and the learner's view
// (prompt + response) is a valid token sequence for the same model. The group evaluates its prompt
// once, and the old path (each sequence evaluating it) samples the same rollouts for the same seed.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadLlamaEngine, type LlamaEngine } from "../../worker/engine/llama-engine.js";
import { TINY_SPECIAL_TOKENS, writeTinyModel } from "../../worker/engine/tiny-model.js";
import { QA_SEARCH_DEMONSTRATIONS } from "../../worker/icrl/default-demonstrations.js";
import { QA_SEARCH_TEMPLATE } from "../../worker/icrl/default-templates.js";
import { renderPrompt } from "../../worker/icrl/prompt.js";
import { toLearnerSample } from "../../worker/icrl/rollout-trace.js";
import { runRolloutGroup } from "../../worker/icrl/rollout.js";
import { RolloutFinishReasonSchema } from "../../contracts/index.js";
import { expectSegmentsMatchTokens } from "./invariants.js";
import { openSmallSearch } from "./search-fixture.js";

let dir: string;
let modelPath: string;
let engine: LlamaEngine;
let search: Awaited<ReturnType<typeof openSmallSearch>>;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "icrl-rollout-"));
  modelPath = path.join(dir, "tiny.gguf");
  writeTinyModel({ out: modelPath, context: 8192, seed: 11 });
  // One thread: on a shared 2-core machine, spinning llama.cpp threads slow down by 20x under load.
  engine = await loadLlamaEngine({ modelPath, threads: 1, gpu: false });
  search = await openSmallSearch();
});

afterAll(async () => {
  await engine?.dispose();
  search?.cleanup();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("rollouts on node-llama-cpp with a tiny random model", () => {
  it("keeps ids, masks, segments and budgets consistent", async () => {
    const prompt = renderPrompt(engine, {
      question: "Which river flows through Vienna?",
      questionId: "vienna",
      shots: 1,
      template: QA_SEARCH_TEMPLATE,
      demonstrations: QA_SEARCH_DEMONSTRATIONS,
    });
    // The chat template's markers are single special tokens, the tags are plain text.
    expect(prompt.tokens.filter((t) => t === TINY_SPECIAL_TOKENS.imStart)).toHaveLength(2);
    expect(prompt.text.endsWith("<|im_start|>assistant\n")).toBe(true);

    const limits = { maxToolTurns: 3, maxTokensPerTurn: 160, maxResponseTokens: 500 };
    const group = await engine.openGroup(4, { tokensPerSequence: prompt.tokens.length + limits.maxResponseTokens + 8 });
    try {
      const result = await runRolloutGroup(engine, group, prompt.tokens, {
        tools: [search.tool],
        messages: QA_SEARCH_TEMPLATE,
        sampling: { temperature: 1, topK: 0, topP: 1, minP: 0, seed: 5 },
        ...limits,
      });
      expect(result.rollouts).toHaveLength(4);
      // The group's prompt was evaluated once (its last token on each sequence), not 4 times.
      expect(result.promptTokensEvaluated).toBe(prompt.tokens.length - 1 + 4);
      for (const [i, rollout] of result.rollouts.entries()) {
        expect(RolloutFinishReasonSchema.safeParse(rollout.finishReason).success).toBe(true);
        expect(rollout.error).toBeUndefined();
        expectSegmentsMatchTokens(rollout, (ids) => engine.detokenize(ids));
        // The sequence holds exactly prompt + response.
        expect(group.sequences[i].length).toBe(prompt.tokens.length + rollout.responseTokens);
        expect(rollout.responseTokens).toBeLessThanOrEqual(limits.maxResponseTokens);
        expect(rollout.turns).toBeGreaterThanOrEqual(1);
        expect(rollout.turns).toBeLessThanOrEqual(limits.maxToolTurns + 1);
        // Each model turn stays within the per-turn budget: runs of mask-1 tokens are turns
        // (inserted text always separates two turns).
        const runs = rollout.lossMask
          .join("")
          .split("0")
          .filter((r) => r.length > 0);
        expect(runs).toHaveLength(rollout.turns);
        for (const r of runs) expect(r.length).toBeLessThanOrEqual(limits.maxTokensPerTurn);
        // Inserted text is exactly the SYSTEM and TOOL_RESULT segments, all loss-masked.
        expect(rollout.segments.filter((s) => s.kind === "SYSTEM")).toHaveLength(rollout.corrections + (rollout.turns > limits.maxToolTurns ? 1 : 0));
        const learner = toLearnerSample(result.promptIds, rollout);
        expect(learner.tokens.length).toBe(learner.promptLength + learner.lossMask.length);
      }
      // The seeded run ends some turns at end of sequence: corrections were inserted after sampled
      // tokens and generation went on from there (the engine's pending-token path).
      expect(result.rollouts.some((r) => r.corrections > 0 && r.turns > 1)).toBe(true);

      // The learner's token sequence is valid for the same model: it can be scored token by token.
      const sample = toLearnerSample(result.promptIds, result.rollouts[0]);
      const logProbs = await engine.logProbs(sample.tokens);
      expect(logProbs).toHaveLength(sample.tokens.length - 1);
      expect(logProbs.every((lp) => Number.isFinite(lp) && lp <= 0)).toBe(true);

      // The old path, every sequence evaluating the whole prompt, gives the same rollouts for the same
      // seed: sharing the prompt changes the work, not the samples.
      const separate = await loadLlamaEngine({ modelPath, threads: 1, gpu: false, sharedPrefill: false });
      const oldGroup = await separate.openGroup(4, { tokensPerSequence: prompt.tokens.length + limits.maxResponseTokens + 8 });
      try {
        const old = await runRolloutGroup(separate, oldGroup, prompt.tokens, {
          tools: [search.tool],
          messages: QA_SEARCH_TEMPLATE,
          sampling: { temperature: 1, topK: 0, topP: 1, minP: 0, seed: 5 },
          ...limits,
        });
        expect(old.promptTokensEvaluated).toBe(prompt.tokens.length * 4);
        const shape = (r: (typeof old.rollouts)[number]) => ({ ids: r.responseIds, mask: r.lossMask, finish: r.finishReason });
        expect(old.rollouts.map(shape)).toEqual(result.rollouts.map(shape));
      } finally {
        await oldGroup.dispose();
        await separate.dispose();
      }
    } finally {
      await group.dispose();
    }
  });
});
