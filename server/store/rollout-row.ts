// Rollouts are read with raw SQL (the hot path and the feeds); this maps their snake_case rows to
// the camelCase Rollout GraphQL type in one place.

export interface RolloutDbRow {
  id: string;
  run_id: string;
  seq: string;
  step: number;
  stage: number;
  shots: number;
  group_index: number;
  sample_index: number;
  question_id: string;
  segments: unknown;
  reward: number;
  reward_components: unknown;
  advantage: number | null;
  prompt_tokens: number;
  response_tokens: number;
  turns: number;
  tool_calls_valid: number;
  tool_calls_invalid: number;
  finish_reason: string;
  created_at: Date;
}

export function rolloutFromRow(r: RolloutDbRow) {
  return {
    id: String(r.id),
    runId: r.run_id,
    cursor: BigInt(r.seq),
    step: r.step,
    stage: r.stage,
    shots: r.shots,
    groupIndex: r.group_index,
    sampleIndex: r.sample_index,
    questionId: r.question_id,
    segments: r.segments,
    reward: r.reward,
    rewardComponents: r.reward_components,
    advantage: r.advantage,
    promptTokens: r.prompt_tokens,
    responseTokens: r.response_tokens,
    turns: r.turns,
    toolCallsValid: r.tool_calls_valid,
    toolCallsInvalid: r.tool_calls_invalid,
    finishReason: r.finish_reason,
    createdAt: r.created_at,
  };
}
