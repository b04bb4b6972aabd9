// Evaluation settings of a benchmark run, shared by the server (startBenchmarkRun) and the worker.
// Evaluation is zero-shot by default, as in the paper.
import { z } from "zod";
import { toolsConfigSchema } from "./tools-config.js";
import { PromptTemplateSchema } from "./prompt.js";
import { chatTemplateArgsSchema } from "./chat-template-args.js";

export const benchmarkConfigSchema = z
  .object({
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
        temperature: z.number().min(0).max(5).default(0),
        topK: z.number().int().min(0).default(0),
        topP: z.number().gt(0).max(1).default(1),
        seed: z.number().int().min(0).default(0),
      })
      .prefault({}),
    maxToolTurns: z.number().int().min(0).max(32).default(6),
    maxTurnTokens: z.number().int().positive().default(512),
    maxTotalTokens: z.number().int().positive().default(2048),
    contextSize: z.number().int().min(256).default(4096),
    parallel: z.number().int().min(1).max(64).default(8),
    demonstrationSetId: z.string().uuid().optional(),
    requirements: z
      .object({ backend: z.string().optional(), minGpuMemoryMb: z.number().min(0).optional(), minMemoryMb: z.number().min(0).optional() })
      .prefault({}),
  })
  .strict();

export type BenchmarkConfig = z.infer<typeof benchmarkConfigSchema>;
