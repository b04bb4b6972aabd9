// Shapes shared by the rollout loop and the worker's reporting: one trajectory as segments, and the
// Rollout record the worker sends to the server (ARCHITECTURE.md, "The method").
import { z } from "zod";

/**
 * MODEL: text the model sampled (trained, loss mask 1).
 * TOOL_CALL: the model's call, from its opening tag to the end of the turn, e.g.
 *   "<search> capital of France </search>" (also sampled by the model: mask 1); `tool` and `input`
 *   hold the parsed call.
 * TOOL_RESULT: the observation the environment inserted (mask 0).
 * SYSTEM: a correction or the tools-off notice the environment inserted (mask 0).
 * Concatenating every segment's text in order gives the whole response (prompt excluded).
 */
export const SegmentKindSchema = z.enum(["MODEL", "TOOL_CALL", "TOOL_RESULT", "SYSTEM"]);
export type SegmentKind = z.infer<typeof SegmentKindSchema>;

export const SegmentSchema = z.object({
  kind: SegmentKindSchema,
  text: z.string(),
  /** TOOL_CALL / TOOL_RESULT: the tool's tag name. */
  tool: z.string().optional(),
  /** TOOL_CALL: the parsed input (query, code). */
  input: z.string().optional(),
  /** TOOL_RESULT: whether the tool succeeded; SYSTEM: absent. */
  ok: z.boolean().optional(),
});
export type Segment = z.infer<typeof SegmentSchema>;

/** Segment kinds whose tokens the model sampled: exactly these carry loss mask 1. */
export const MODEL_SAMPLED_KINDS: ReadonlySet<SegmentKind> = new Set(["MODEL", "TOOL_CALL"]);

/**
 * answer: the model closed an </answer>.
 * eos: the model ended its sequence in a tool turn and the loop was told to stop there (onEos "finish").
 * length: a per-turn or total token budget ran out.
 * max_turns: the last, tools-off turn ended without an answer.
 * error: the engine failed (the message is kept on the rollout).
 */
export const RolloutFinishReasonSchema = z.enum(["answer", "eos", "length", "max_turns", "error"]);
export type RolloutFinishReason = z.infer<typeof RolloutFinishReasonSchema>;

const count = z.number().int().nonnegative();

/** A segment as the server stores it: the parsed call and the tool's outcome stay on the worker. */
export const ReportedSegmentSchema = SegmentSchema.pick({ kind: true, text: true });
export type ReportedSegment = z.infer<typeof ReportedSegmentSchema>;

/** What the worker reports to the server for one sampled trajectory (GraphQL RolloutInput). */
export const RolloutRecordSchema = z.object({
  step: count,
  stage: count,
  shots: count,
  groupIndex: count,
  sampleIndex: count,
  questionId: z.string(),
  segments: z.array(ReportedSegmentSchema),
  reward: z.number(),
  rewardComponents: z.record(z.string(), z.number()),
  advantage: z.number(),
  promptTokens: count,
  responseTokens: count,
  turns: count,
  toolCallsValid: count,
  toolCallsInvalid: count,
  finishReason: RolloutFinishReasonSchema,
});
export type RolloutRecord = z.infer<typeof RolloutRecordSchema>;
