// Evaluation settings of a benchmark run, shared by the server (startBenchmarkRun) and the worker.
// Evaluation is zero-shot by default, as in the paper.
import { z } from "zod";
import { toolsConfigSchema } from "./tools-config.js";
import { PromptTemplateSchema, type PromptTemplate as PromptTemplateType } from "./prompt.js";
import { chatTemplateArgsSchema, type ChatTemplateArgs as ChatTemplateArgsType } from "./chat-template-args.js";
import { multiGoldSchema, rolloutLoopSchema, turnCapActionSchema } from "./rollout-options.js";
import { applyBenchmarkPreset, presetSchema } from "./paper-preset.js";

export const benchmarkConfigSchema = z
  .object({
    /** "paper": unset settings take the official evaluation's values (contracts/paper-preset.ts). */
    preset: presetSchema.optional(),
    split: z.string().optional(),
    limit: z.number().int().positive().optional(),
    shots: z.number().int().min(0).max(16).default(0),
    task: z.enum(["qa", "math"]).optional(),
    metric: z.enum(["em", "f1", "subem", "math_equiv", "gsm8k"]).optional(),
    /** Same schema the worker builds its tools from (contracts/tools-config.ts). */
    tools: toolsConfigSchema.prefault({}),
    /** Prompt wording; default: the task's built-in template. A trained adapter scores only under the template it learned. */
    template: PromptTemplateSchema.optional(),
    /** Extra chat template variables, e.g. Qwen3's { enable_thinking: false }: use the trained run's. */
    chatTemplateArgs: chatTemplateArgsSchema.optional(),
    decoding: z
      .object({
        /** 0 (default): greedy, one deterministic answer per item; the paper evaluates at 0.1. */
        temperature: z.number().min(0).max(5).default(0),
        topK: z.number().int().min(0).default(0),
        topP: z.number().gt(0).max(1).default(1),
        seed: z.number().int().min(0).default(0),
      })
      .prefault({}),
    maxToolTurns: z.number().int().min(0).max(32).default(6),
    maxTurnTokens: z.number().int().positive().default(512),
    maxTotalTokens: z.number().int().positive().default(2048),
    /** Rollouts per item; the item's score is their mean (avg@k, as reported for AIME). Needs temperature > 0 to differ. */
    samples: z.number().int().min(1).max(64).default(1),
    /** As the run config's rollout.turnCapAction, rollout.loop and reward.multiGold (contracts/rollout-options.ts). */
    turnCapAction: turnCapActionSchema.default("end"),
    loop: rolloutLoopSchema.default("ours"),
    multiGold: multiGoldSchema.default("any"),
    contextSize: z.number().int().min(256).default(4096),
    parallel: z.number().int().min(1).max(64).default(8),
    demonstrationSetId: z.string().uuid().optional(),
    requirements: z
      .object({ backend: z.string().optional(), minGpuMemoryMb: z.number().min(0).optional(), minMemoryMb: z.number().min(0).optional() })
      .prefault({}),
  })
  .strict();

export type BenchmarkConfig = z.infer<typeof benchmarkConfigSchema>;

/** Parse a benchmark config after filling in the preset it names (the server stores the result; the worker re-parses it). */
export function parseBenchmarkConfig(input: unknown) {
  return benchmarkConfigSchema.safeParse(applyBenchmarkPreset(input ?? {}));
}

/**
 * A benchmark of a training run's adapter: an adapter scores only under the prompt it learned with, so
 * unless the benchmark config names a template (or chat template arguments) the run's are used. A run
 * on the built-in template has none stored, and the benchmark's built-in default is that same one.
 */
export function withRunPrompt(
  input: Record<string, unknown>,
  run: { template?: PromptTemplateType; model: { chatTemplateArgs?: ChatTemplateArgsType } },
): Record<string, unknown> {
  const out = { ...input };
  if (out.template === undefined && run.template) out.template = run.template;
  if (out.chatTemplateArgs === undefined && run.model.chatTemplateArgs) out.chatTemplateArgs = run.model.chatTemplateArgs;
  return out;
}
