// One evaluated question -> the per-item record the server stores. The prediction is the content of
// the model's last <answer> (tool results stripped: they are text the model did not write); the score
// is the benchmark's metric on it, and QA items always also carry em and f1 so runs scored with
// different metrics stay comparable.
import type { BenchmarkItemInput } from "../../client-sdk/src/index.js";
import type { RolloutResult } from "../icrl/rollout-trace.js";
import type { MultiGold } from "../../contracts/index.js";
import { accuracyOf, formatScore, type MetricName } from "../scoring/index.js";

export interface EvalItem {
  index: number;
  externalId: string;
  question: string;
  golds: string[];
}

export interface ItemMetrics {
  em?: number;
  f1?: number;
  [metric: string]: number | string | undefined;
  toolCalls: number;
  toolCallsInvalid: number;
  turns: number;
  /** Tokens the model generated (tool results and corrections excluded). */
  tokens: number;
  promptTokens: number;
  format: number;
  finishReason: string;
}

/**
 * Postgres text and jsonb cannot hold U+0000, and a model can emit that byte: the server would
 * refuse the whole batch. Shown as U+FFFD instead, like any other undecodable byte.
 */
export function storableText(text: string): string {
  return text.includes("\u0000") ? text.replaceAll("\u0000", "\uFFFD") : text;
}

export function scoreItem(
  item: EvalItem,
  rollout: Pick<
    RolloutResult,
    "modelText" | "segments" | "toolCallsValid" | "toolCallsInvalid" | "turns" | "modelTokens" | "promptTokens" | "finishReason" | "error"
  >,
  plan: { metric: MetricName; extraMetrics: readonly MetricName[]; toolNames: readonly string[]; multiGold?: MultiGold },
): BenchmarkItemInput {
  const fmt = formatScore(rollout.modelText, { toolTags: plan.toolNames });
  const answer = fmt.answer;
  const scoreWith = (metric: MetricName) => accuracyOf(answer, item.golds, { metric, multiGold: plan.multiGold });
  const score = scoreWith(plan.metric);
  const metrics: ItemMetrics = {
    [plan.metric]: score,
    toolCalls: rollout.toolCallsValid,
    toolCallsInvalid: rollout.toolCallsInvalid,
    turns: rollout.turns,
    tokens: rollout.modelTokens,
    promptTokens: rollout.promptTokens,
    format: fmt.format,
    finishReason: rollout.finishReason,
  };
  for (const extra of plan.extraMetrics) metrics[extra] = scoreWith(extra);
  if (rollout.error) metrics.error = storableText(rollout.error.slice(0, 500));
  return {
    itemIndex: item.index,
    itemId: item.externalId,
    question: item.question,
    prediction: answer === null ? "" : storableText(answer.trim()),
    golds: item.golds,
    score,
    metrics,
    trajectory: rollout.segments.map((s) => ({ kind: s.kind, text: storableText(s.text) })),
  };
}

/** An item that could not run at all (e.g. its prompt does not fit the context): scored 0. */
export function failedItem(
  item: EvalItem,
  reason: string,
  plan: { metric: MetricName; extraMetrics: readonly MetricName[] },
  promptTokens = 0,
): BenchmarkItemInput {
  const metrics: ItemMetrics = {
    [plan.metric]: 0,
    toolCalls: 0,
    toolCallsInvalid: 0,
    turns: 0,
    tokens: 0,
    promptTokens,
    format: 0,
    finishReason: "error",
    error: reason,
  };
  for (const extra of plan.extraMetrics) metrics[extra] = 0;
  return {
    itemIndex: item.index,
    itemId: item.externalId,
    question: item.question,
    prediction: "",
    golds: item.golds,
    score: 0,
    metrics,
    trajectory: [],
  };
}
