// Extra variables for the model's Jinja chat template, as Hugging Face's apply_chat_template(**kwargs)
// and vLLM's chat_template_kwargs pass them: Qwen3's { enable_thinking: false } pre-fills an empty
// <think></think> block so the model answers without thinking. Shared by run and benchmark configs.
import { z } from "zod";

/** Set by the prompt builder itself; a template argument may not replace them. */
export const RESERVED_CHAT_TEMPLATE_VARIABLES = ["messages", "add_generation_prompt", "bos_token", "eos_token"] as const;

export const chatTemplateArgsSchema = z
  .record(z.string().min(1), z.json())
  .refine((args) => !RESERVED_CHAT_TEMPLATE_VARIABLES.some((key) => key in args), {
    message: `chatTemplateArgs may not set ${RESERVED_CHAT_TEMPLATE_VARIABLES.join(", ")}: the prompt builder sets them`,
  });
export type ChatTemplateArgs = z.infer<typeof chatTemplateArgsSchema>;
