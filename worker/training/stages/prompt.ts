// Stage "prompt": one k-shot prompt per question, rendered with the model's chat template.
import type { DemonstrationSet, PromptTemplate, RunConfig } from "../../../contracts/index.js";
import type { Engine } from "../../engine/types.js";
import { renderPrompt, type RenderedPrompt } from "../../icrl/prompt.js";
import type { TrainingItem } from "../types.js";

export interface PromptSettings {
  config: RunConfig;
  template: PromptTemplate;
  demonstrations: DemonstrationSet | null;
}

export function buildPrompts(
  engine: Pick<Engine, "formatChat" | "tokenize">,
  questions: readonly TrainingItem[],
  shots: number,
  settings: PromptSettings,
): RenderedPrompt[] {
  return questions.map((item) =>
    renderPrompt(engine, {
      question: item.question,
      questionId: item.id,
      shots,
      template: settings.template,
      demonstrations: shots > 0 ? settings.demonstrations : null,
      selection: settings.config.demonstrations.selection,
      seed: settings.config.seed,
      chatTemplateArgs: settings.config.model.chatTemplateArgs,
    }),
  );
}
