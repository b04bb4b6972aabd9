// Turns a finished rollout plus its training context (step, stage, reward, advantage) into the record
// the worker reports to the server.
import type { RolloutResult } from "./rollout-trace.js";
import { RolloutRecordSchema, type RolloutRecord } from "../../contracts/index.js";

export interface RolloutContext {
  step: number;
  stage: number;
  shots: number;
  groupIndex: number;
  questionId: string;
  reward: number;
  rewardComponents: Record<string, number>;
  advantage: number;
}

/** Validated with RolloutRecordSchema, so a bad value fails here rather than at the server. */
export function toRolloutRecord(rollout: RolloutResult, context: RolloutContext): RolloutRecord {
  return RolloutRecordSchema.parse({
    ...context,
    sampleIndex: rollout.sampleIndex,
    segments: rollout.segments,
    promptTokens: rollout.promptTokens,
    responseTokens: rollout.responseTokens,
    turns: rollout.turns,
    toolCallsValid: rollout.toolCallsValid,
    toolCallsInvalid: rollout.toolCallsInvalid,
    finishReason: rollout.finishReason,
  });
}
