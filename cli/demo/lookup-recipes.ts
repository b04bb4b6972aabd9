// The lookup base models' pre-training recipes, as data: the phases buildLookupModel
// (lookup-model.ts) trains, with the share of zero-shot episodes that search as the explicit prior.
// Kept apart from the builder so that `icrl model lookup` can list them without loading llama.cpp.
import type { BuildTokenizer } from "../../worker/engine/files.js";
import type { LearnerDriver } from "../../worker/learner/index.js";

/** One pre-training phase: its episodes' shot counts (cycled) and guess rates, and its length. */
export interface PretrainPhase {
  steps: number;
  /** Worked examples in the prompts, cycled over the episodes. */
  shots: readonly number[];
  /** Share of episodes per shot count that guess instead of searching. */
  guessRate?: Readonly<Record<number, number>>;
}

export interface LookupModelOptions {
  out: string;
  learner: LearnerDriver;
  phases: readonly PretrainPhase[];
  /**
   * Share of the zero-shot episodes that search, in every phase (exact; replaces the phases'
   * guessRate[0]; default: their guess rates decide). The base's prior for tool use without
   * examples, independent of its k-shot habit.
   */
  zeroShotSearchRate?: number;
  /** Total pre-training steps: scales the phases' lengths (default: their sum). */
  steps?: number;
  seed?: number;
  episodesPerPhase?: number;
  lr?: number;
  batchSize?: number;
  /**
   * The vocabulary: "byte" (default: the demo's model, LOOKUP_MODEL_SHAPE) or a real tokenizer on
   * `icrl model build`'s tiny shape (the same sizes; that family's architecture and chat template).
   */
  tokenizer?: BuildTokenizer;
  /**
   * The episodes: "lookup" (default; one search each) or "two-hop" (two-hop-task.ts: a share
   * `twoHopShare`, default 0.5, needs a second search for the partner's code).
   */
  task?: "lookup" | "two-hop";
  twoHopShare?: number;
}

/**
 * The pre-training the learning test and the demo use. Phase 1 teaches the skill on zero-shot episodes
 * that all search (copying emerges after ~100 steps; with worked examples in the prompt it takes longer
 * and each step costs ~4x: LOOKUP_PRETRAINING_NEVER_SEARCHING); phase 2 adds worked examples and the habit: mostly guess when the prompt
 * shows none, search when it does. The figures it gives are in the learning test's header.
 */
export const LOOKUP_PRETRAINING = {
  seed: 1,
  lr: 3e-3,
  batchSize: 16,
  phases: [
    { steps: 120, shots: [0] },
    { steps: 40, shots: [0, 0, 1, 2, 3], guessRate: { 0: 0.7, 1: 0.35, 2: 0.35, 3: 0.35 } },
  ],
} as const satisfies Omit<LookupModelOptions, "out" | "learner">;

/**
 * A base that practically never searches without examples (issue 13: zero-shot RL alone should not
 * find the tool by chance, so the curriculum is put to a real test) and still searches with them. No
 * zero-shot episode searches, so copying is taught on k-shot episodes (each step ~4x the cost of a
 * zero-shot one). 120 steps of them taught some seeds the search call but not the copy (right in under
 * a fifth of 3-shot samples), hence 200; with the demo's k-shot guess rate (0.35) a seed searched in
 * only 28% of 3-shot samples, hence 0.1. Measured, seeds 1-3, temperature 1: 0 of 256 zero-shot
 * rollouts searched, 76-99% of 3-shot ones (BENCHMARKS.md, "lookup-prior").
 */
export const LOOKUP_PRETRAINING_NEVER_SEARCHING = {
  seed: 1,
  lr: 3e-3,
  batchSize: 16,
  zeroShotSearchRate: 0,
  phases: [
    { steps: 200, shots: [1, 2, 3] },
    { steps: 40, shots: [0, 0, 1, 2, 3], guessRate: { 1: 0.1, 2: 0.1, 3: 0.1 } },
  ],
} as const satisfies Omit<LookupModelOptions, "out" | "learner">;

/**
 * The two-hop variant's base (two-hop-task.ts; REPLICATION.md, claim 2): the demo's recipe on episodes
 * of which half need two searches, so it can chain searches before any RL. Like the demo's base it
 * searches often with worked examples and mostly guesses without.
 */
export const LOOKUP_PRETRAINING_TWO_HOP = {
  seed: 1,
  lr: 3e-3,
  batchSize: 16,
  task: "two-hop",
  twoHopShare: 0.5,
  phases: [
    { steps: 160, shots: [0] },
    { steps: 40, shots: [0, 0, 1, 2, 3], guessRate: { 0: 0.7, 1: 0.35, 2: 0.35, 3: 0.35 } },
  ],
} as const satisfies Omit<LookupModelOptions, "out" | "learner">;

/** The named recipes (`icrl model lookup --prior`, the lookup-prior benchmark). */
export const LOOKUP_PRIORS = {
  demo: LOOKUP_PRETRAINING,
  "never-searching": LOOKUP_PRETRAINING_NEVER_SEARCHING,
  "two-hop": LOOKUP_PRETRAINING_TWO_HOP,
} as const;
export type LookupPrior = keyof typeof LOOKUP_PRIORS;
export const LOOKUP_PRIOR_NAMES = Object.keys(LOOKUP_PRIORS) as LookupPrior[];
