// Rollout and scoring choices that training runs and benchmark runs share, each one a difference
// between our loop and the paper's official code (docs/paper-fidelity.md). One definition, so a run
// and the benchmark of its checkpoint can be told to behave the same way.
import { z } from "zod";

/**
 * A turn that reaches the per-turn token cap without closing a tag. "end": the rollout ends (finish
 * reason "length"); "invalid": the turn counts as an invalid action and the loop continues, as the
 * official training loop does (vLLM stops at max_response_length and the text parses as no action).
 */
export const turnCapActionSchema = z.enum(["end", "invalid"]);
export type TurnCapAction = z.infer<typeof turnCapActionSchema>;

/**
 * "ours": an invalid turn gets a correction naming what was wrong (the template's `correction`), and
 * after the last tool turn a tools-off notice precedes one final answer-only turn. "official": the
 * official code's loop (search_r1/llm_agent/generation.py): an invalid turn gets its one fixed
 * invalid-action sentence, and the final turn runs with no notice (a call it makes is not executed).
 */
export const rolloutLoopSchema = z.enum(["ours", "official"]);
export type RolloutLoop = z.infer<typeof rolloutLoopSchema>;

/**
 * Questions with several golds. "any": the answer must match one of them (SQuAD, Search-R1).
 * "containsAll": also correct when the normalised answer contains every normalised gold (the official
 * reward's set match, qa_em_fewshot.py: "Manhattan, Queens, ..." for the five boroughs).
 */
export const multiGoldSchema = z.enum(["any", "containsAll"]);
export type MultiGold = z.infer<typeof multiGoldSchema>;

/** What the reward is computed on (run config reward.scope): the response alone, or prompt + response as the official code. */
export const rewardScopeSchema = z.enum(["response", "promptAndResponse"]);
export type RewardScope = z.infer<typeof rewardScopeSchema>;
