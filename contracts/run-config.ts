// The training-run configuration: one schema shared by the server (createRun), the CLI (validated
// locally before sending) and the worker (which reads the parsed, defaulted config). Defaults follow
// the paper (ARCHITECTURE.md, "The method") except where LoRA needs a larger learning rate.
import { z } from "zod";
import { toolsConfigSchema } from "./tools-config.js";
import { PromptTemplateSchema } from "./prompt.js";
import { chatTemplateArgsSchema } from "./chat-template-args.js";
import { unknownKeyMessage } from "./unknown-keys.js";
import { multiGoldSchema, rewardScopeSchema, rolloutLoopSchema, turnCapActionSchema } from "./rollout-options.js";
import { applyRunPreset, presetSchema } from "./paper-preset.js";

const stage = z.strictObject({
  shots: z.number().int().min(0).max(16),
  steps: z.number().int().positive().optional(),
  minSteps: z.number().int().min(0).optional(),
  maxSteps: z.number().int().positive().optional(),
});

const advanceRule = z.strictObject({
  metric: z.string().min(1),
  window: z.number().int().positive(),
  threshold: z.number(),
  op: z.enum([">=", ">", "<=", "<"]).default(">="),
});

export const curriculumSchema = z
  .strictObject({
    stages: z.array(stage).min(1, "a curriculum needs at least one stage"),
    advanceRules: z.array(advanceRule).optional(),
  })
  .superRefine((c, ctx) => {
    c.stages.forEach((s, i) => {
      const last = i === c.stages.length - 1;
      if (!c.advanceRules?.length && !last && s.steps === undefined) {
        ctx.addIssue({ code: "custom", path: ["stages", i, "steps"], message: "fixed curricula need steps for every stage but the last" });
      }
      if (s.minSteps !== undefined && s.maxSteps !== undefined && s.minSteps > s.maxSteps) {
        ctx.addIssue({ code: "custom", path: ["stages", i, "minSteps"], message: "minSteps must not exceed maxSteps" });
      }
    });
  });

/** What decides how long a run lasts: its curriculum's stages and rules, and its own maxSteps. */
export interface RunLengthInput {
  stages: { shots: number; steps?: number; maxSteps?: number }[];
  advanceRules?: unknown[] | null;
  maxSteps?: number | null;
}

/**
 * A run's length must be stated, so no stage is skipped or cut by a hidden cap: a fixed curriculum's
 * last stage needs steps (or the run its maxSteps), and a rule-driven curriculum needs an end (its
 * last stage's maxSteps, or the run's). maxSteps below the stages' total is an explicit cap and allowed.
 */
export function runLengthProblems(input: RunLengthInput, stagesPath = "curriculum.stages"): ConfigFieldError[] {
  if (input.maxSteps != null || !input.stages.length) return [];
  const lastIndex = input.stages.length - 1;
  const last = input.stages[lastIndex];
  if (last.steps !== undefined || last.maxSteps !== undefined) return [];
  if (input.advanceRules?.length) {
    return [{ path: "maxSteps", message: "a curriculum with advance rules needs an end: set maxSteps for the run, or maxSteps on its last stage" }];
  }
  return [
    {
      path: `${stagesPath}.${lastIndex}.steps`,
      message: `the last stage (${last.shots} shots) needs steps, or the run maxSteps: without either it would end before this stage ran a step`,
    },
  ];
}

export const runConfigSchema = z
  .strictObject({
    /** "paper": every setting left unset takes the paper's / official code's value (contracts/paper-preset.ts). */
    preset: presetSchema.optional(),
    model: z.strictObject({
      /** GGUF file as the worker sees it. */
      path: z.string().min(1, "model.path is required: the GGUF file the worker loads"),
      contextSize: z.number().int().min(256).default(4096),
      /** Extra chat template variables for every prompt of the run, e.g. Qwen3's { enable_thinking: false }. */
      chatTemplateArgs: chatTemplateArgsSchema.optional(),
    }),
    task: z.enum(["qa", "math"]).default("qa"),
    dataset: z.strictObject({
      id: z.string().uuid("dataset.id must be the id of an imported dataset"),
      split: z.string().default("train"),
      validationSplit: z.string().optional(),
    }),
    /** Same schema the worker builds its tools from (contracts/tools-config.ts). */
    tools: toolsConfigSchema.prefault({}),
    curriculum: curriculumSchema.optional(),
    /** Prompt wording (instructions, demonstration and question layout); default: the task's built-in template. */
    template: PromptTemplateSchema.optional(),
    /** LoRA warm start before RL: next-token training on the demonstrations (for tiny test/demo models). */
    warmStart: z.strictObject({ steps: z.number().int().positive(), lr: z.number().positive().default(1e-2) }).optional(),
    demonstrations: z
      .strictObject({
        selection: z.enum(["first", "sampled"]).default("first"),
        setId: z.string().uuid().optional(),
      })
      .prefault({}),
    grpo: z
      .strictObject({
        groupSize: z.number().int().min(2).max(64).default(8),
        questionsPerStep: z.number().int().positive().default(64),
        lr: z.number().positive().max(1).default(1e-4),
        clipEps: z.number().positive().max(1).default(0.2),
        klCoef: z.number().min(0).default(0.001),
        entropyCoef: z.number().min(0).default(0.001),
        gradClip: z.number().positive().default(1.0),
        epochs: z.number().int().positive().default(1),
        /** Rollouts (sequences, G per question) per optimizer update; unset: the whole step's batch in one update. */
        miniBatchSize: z.number().int().positive().optional(),
        /**
         * Questions per optimizer update (each brings its G rollouts), as verl's ppo_mini_batch_size counts:
         * 64 questions per step in mini-batches of 32 is two updates. Exclusive with miniBatchSize.
         */
        miniBatchQuestions: z.number().int().positive().optional(),
        filterZeroVariance: z.boolean().default(false),
        /**
         * On entering a new curriculum stage: restart AdamW, and make the current policy (the previous stage's
         * final one) the KL reference. Off by default: one run is one continued optimisation against the base model.
         */
        resetOnStage: z.strictObject({ optimizer: z.boolean().default(false), reference: z.boolean().default(false) }).prefault({}),
        /**
         * Linear learning-rate warm-up at the start of every curriculum stage, as a fraction of the stage's steps
         * (verl's lr_warmup_steps_ratio, re-applied per stage because the official code launches each stage
         * anew). 0 (default): the full lr from the first step; LoRA runs rarely need it.
         */
        stageWarmup: z.number().min(0).max(1).default(0),
      })
      .prefault({}),
    lora: z
      .strictObject({
        rank: z.number().int().positive().max(256).default(16),
        alpha: z.number().positive().default(32),
        targets: z.array(z.string()).default(["q", "k", "v", "o", "gate", "up", "down"]),
      })
      .prefault({}),
    rollout: z
      .strictObject({
        temperature: z.number().min(0).max(5).default(1.0),
        topK: z.number().int().min(0).default(0),
        topP: z.number().gt(0).max(1).default(1),
        maxToolTurns: z.number().int().min(0).max(32).default(6),
        /** Tokens one generation turn may sample (the paper: 2048). */
        maxTurnTokens: z.number().int().positive().default(512),
        /** Tokens the whole response may hold, sampled and inserted (tool results, notices) together. */
        maxTotalTokens: z.number().int().positive().default(2048),
        /**
         * A turn that reaches maxTurnTokens without closing a tag: "end" (default) ends the rollout (finish
         * reason "length"); "invalid" treats it as an invalid action and continues, as the official loop does.
         */
        turnCapAction: turnCapActionSchema.default("end"),
        /** "ours" (default) or "official": the official code's loop (its fixed invalid-action notice, no tools-off notice). See rollout-loop docs. */
        loop: rolloutLoopSchema.default("ours"),
      })
      .prefault({}),
    reward: z
      .strictObject({
        /** Default: the task's, as evaluation uses (qa: em, math: math_equiv); see rewardMetricOf. */
        metric: z.enum(["em", "f1", "subem", "math_equiv", "gsm8k"]).optional(),
        accuracyWeight: z.number().min(0).default(0.8),
        formatWeight: z.number().min(0).default(0.2),
        /** Several golds: "any" (default) one must match; "containsAll" also accepts an answer containing all of them. */
        multiGold: multiGoldSchema.default("any"),
        /**
         * What reward is computed on: "response" (default: the model's own text) or "promptAndResponse" (the
         * official code's behaviour: the demonstrations' tags make most format penalties inert, and with no answer
         * of its own the model is scored on the last demonstration's).
         */
        scope: rewardScopeSchema.default("response"),
      })
      .prefault({}),
    validation: z.strictObject({ every: z.number().int().positive().default(10), size: z.number().int().positive().default(64) }).prefault({}),
    checkpointEvery: z.number().int().positive().default(10),
    maxSteps: z.number().int().positive().optional(),
    seed: z.number().int().min(0).default(0),
    requirements: z
      .strictObject({ backend: z.string().optional(), minGpuMemoryMb: z.number().min(0).optional(), minMemoryMb: z.number().min(0).optional() })
      .prefault({}),
    /**
     * Where and how the PyTorch learner trains; "auto" is CUDA when the worker's torch sees a GPU. The
     * memory settings are unset by default (the learner's own defaults: float32 weights, no gradient
     * checkpointing, log-probs in chunks of 512 positions), so stored configs train as they did.
     */
    learner: z
      .object({
        device: z
          .string()
          .regex(/^(auto|cpu|cuda(:\d+)?)$/, 'learner.device must be auto, cpu, cuda or cuda:N (e.g. "cuda:1")')
          .default("auto"),
        /** The frozen base weights' dtype in the learner (LoRA weights stay float32). float16 needs CUDA. */
        dtype: z.enum(["float32", "bfloat16", "float16"], { error: "learner.dtype must be float32, bfloat16 or float16" }).optional(),
        /** Recompute each layer's activations in the backward pass: less memory for long sequences, ~1.3x the step time. */
        gradientCheckpointing: z.boolean().optional(),
        /**
         * Positions per chunk when log-probs and entropy are taken over the vocabulary: peak memory is
         * chunk x vocabulary logits instead of sequence x vocabulary (BENCHMARKS.md, "learner memory");
         * 0 = the whole sequence at once.
         */
        logprobChunk: z.number().int().min(0, "learner.logprobChunk must be 0 (no chunking) or a positive number of positions").optional(),
      })
      .strict()
      .optional(),
  })
  .superRefine((config, ctx) => {
    if (config.grpo.miniBatchSize !== undefined && config.grpo.miniBatchQuestions !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["grpo", "miniBatchQuestions"],
        message:
          "set either grpo.miniBatchSize (rollouts per update) or grpo.miniBatchQuestions (questions per update), not both; under preset paper, setting miniBatchSize replaces the preset's miniBatchQuestions",
      });
    }
    if (!config.curriculum) return;
    for (const p of runLengthProblems({ ...config.curriculum, maxSteps: config.maxSteps })) {
      ctx.addIssue({ code: "custom", path: p.path.split(".").map((x) => (/^\d+$/.test(x) ? Number(x) : x)), message: p.message });
    }
  });

export type RunConfig = z.infer<typeof runConfigSchema>;
export type RunConfigInput = z.input<typeof runConfigSchema>;

export interface ConfigFieldError {
  path: string;
  message: string;
}

export type RewardMetric = NonNullable<RunConfig["reward"]["metric"]>;

/**
 * The metric a run's accuracy reward uses: the configured one, else the task's (SQuAD exact match for
 * QA, answer equivalence for math, as evaluation does: under EM a math answer "1/2" normalises to "12").
 */
export function rewardMetricOf(config: Pick<RunConfig, "task" | "reward">): RewardMetric {
  return config.reward.metric ?? metricForTask(config.task);
}

/** The task's own accuracy metric, the one training and evaluation use when none is configured. */
export function metricForTask(task: "qa" | "math"): RewardMetric {
  return task === "math" ? "math_equiv" : "em";
}

/** Rollouts per optimizer update as the learner counts them (sequences), or undefined for the whole batch. */
export function miniBatchSequences(grpo: Pick<RunConfig["grpo"], "miniBatchSize" | "miniBatchQuestions" | "groupSize">): number | undefined {
  if (grpo.miniBatchQuestions !== undefined) return grpo.miniBatchQuestions * grpo.groupSize;
  return grpo.miniBatchSize;
}

/**
 * Parse a run config; on failure, one error per bad field with a dotted path (e.g. "grpo.lr"). The parsed
 * config names its reward metric even when the input left it to the task, so a stored run says what it used;
 * with `preset: "paper"` every unset field is first filled with the paper's value, so it stores those too.
 */
export function validateRunConfig(input: unknown): { ok: true; config: RunConfig } | { ok: false; errors: ConfigFieldError[] } {
  const parsed = runConfigSchema.safeParse(applyRunPreset(input));
  if (parsed.success) {
    const config = parsed.data;
    return { ok: true, config: { ...config, reward: { ...config.reward, metric: rewardMetricOf(config) } } };
  }
  return {
    ok: false,
    errors: parsed.error.issues.flatMap((i) =>
      // One error per unknown key, at its own full path, with the key it most likely meant.
      i.code === "unrecognized_keys"
        ? i.keys.map((k) => ({ path: [...i.path, k].join("."), message: unknownKeyMessage(runConfigSchema, i.path, k) }))
        : [{ path: i.path.length ? i.path.join(".") : "(root)", message: i.message }],
    ),
  };
}
