// What a rollout answered and how it was scored, read from what the worker reports: the answer is
// the last <answer>…</answer> the model wrote (as the reward reads it), the score its accuracy
// reward component.
import type { RolloutFieldsFragment } from "./sdk.js";

const ANSWER = /<answer>([\s\S]*?)<\/answer>/g;

export function finalAnswer(segments: RolloutFieldsFragment["segments"]): string | null {
  let found: string | null = null;
  for (const s of segments) {
    if (s.kind !== "MODEL") continue;
    for (const m of s.text.matchAll(ANSWER)) found = m[1].trim();
  }
  return found;
}

/** The accuracy component when the reward has one (exact match, 0 or 1), else the reward itself. */
export function answerScore(r: Pick<RolloutFieldsFragment, "reward" | "rewardComponents">): number {
  const components = r.rewardComponents;
  if (components && typeof components === "object") {
    const accuracy = (components as Record<string, unknown>).accuracy;
    if (typeof accuracy === "number") return accuracy;
  }
  return r.reward;
}
