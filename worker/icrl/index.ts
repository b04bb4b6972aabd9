// The ICRL method's public surface: prompts, the multi-turn rollout loop, advantages, the curriculum
// and the record a rollout is reported as.
export { renderPrompt, buildPrompt, selectDemonstrations, type PromptRequest, type BuiltPrompt, type RenderedPrompt } from "./prompt.js";
export { runRolloutGroup, DEFAULT_ROLLOUT_LIMITS, type RolloutOptions, type RolloutGroupResult } from "./rollout.js";
export type { RolloutResult, ToolCallRecord } from "./rollout-trace.js";
export { toRolloutRecord, type RolloutContext } from "./rollout-record.js";
export { groupAdvantages, batchAdvantages, type GroupAdvantages, type AdvantageOptions } from "./advantages.js";
export { CurriculumState, paperCurriculum, type CurriculumSpecInput, type StageChange } from "./curriculum.js";
export { defaultTemplateFor, QA_SEARCH_TEMPLATE } from "./default-templates.js";
export { defaultDemonstrationsFor } from "./default-demonstrations.js";
export { mulberry32, keyedRandom } from "./seeded-random.js";
