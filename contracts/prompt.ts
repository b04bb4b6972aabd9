// User-suppliable prompt data: templates (wording) and demonstration sets (worked examples).
// Both are plain data validated with zod so a curriculum stored on the server can carry its own.
import { z } from "zod";

export const TaskKindSchema = z.enum(["qa", "math"]);
export type TaskKind = z.infer<typeof TaskKindSchema>;

export const DemonstrationSchema = z.object({
  question: z.string().min(1),
  /** The full solution as the model should write it: think, tool calls, tool results, answer. */
  trajectory: z.string().min(1),
});
export type Demonstration = z.infer<typeof DemonstrationSchema>;

export const DemonstrationSetSchema = z.object({
  name: z.string().min(1),
  task: TaskKindSchema,
  items: z.array(DemonstrationSchema).min(1),
});
export type DemonstrationSet = z.infer<typeof DemonstrationSetSchema>;

const mustContain = (placeholders: string[]) => (text: string) => placeholders.every((p) => text.includes(`{${p}}`));

/**
 * The wording of one prompt family. Placeholders are `{name}`; values are substituted in a single
 * pass, so a question that itself contains "{trajectory}" is left alone.
 * The user message is: instructions, then (k > 0 only) demonstrationsHeader and the k rendered
 * demonstrations joined by demonstrationSeparator, then the rendered question; parts joined by a blank line.
 */
export const PromptTemplateSchema = z.object({
  name: z.string().min(1),
  task: TaskKindSchema,
  /** Optional system message placed before the single user message. */
  systemPrompt: z.string().optional(),
  instructions: z.string().min(1),
  demonstrationsHeader: z.string(),
  /** Placeholders: {index} (1-based), {question}, {trajectory}. */
  demonstration: z.string().refine(mustContain(["question", "trajectory"]), "demonstration must contain {question} and {trajectory}"),
  demonstrationSeparator: z.string().default("\n\n"),
  /** Placeholder: {question}. */
  question: z.string().refine(mustContain(["question"]), "question must contain {question}"),
  /** Inserted (loss-masked) after an unusable turn. Placeholders: {reason}, {tools} (the call syntax). */
  correction: z.string().min(1),
  /** Inserted (loss-masked) before the last, tools-off turn. Placeholder: {tools}. */
  toolsDisabled: z.string().min(1),
});
export type PromptTemplate = z.output<typeof PromptTemplateSchema>;
export type PromptTemplateInput = z.input<typeof PromptTemplateSchema>;

export const DemonstrationSelectionSchema = z.enum(["first", "sampled"]);
/** "first": the first k items (the paper's way); "sampled": k items drawn per question, seeded. */
export type DemonstrationSelection = z.infer<typeof DemonstrationSelectionSchema>;
