// Checks every rollout must satisfy, whatever the policy wrote.
import { expect } from "vitest";
import type { RolloutResult } from "../../worker/icrl/rollout-trace.js";
import { MODEL_SAMPLED_KINDS } from "../../contracts/index.js";

/** Ids and mask against what the sequence really holds (`log`: every token with who produced it). */
export function expectMatchesSequence(
  rollout: RolloutResult,
  promptIds: readonly number[],
  log: ReadonlyArray<{ id: number; sampled: boolean }>,
): void {
  expect(log.slice(0, promptIds.length).map((t) => t.id)).toEqual(promptIds);
  expect(log.slice(0, promptIds.length).every((t) => !t.sampled)).toBe(true);
  const response = log.slice(promptIds.length);
  expect(rollout.responseIds).toEqual(response.map((t) => t.id));
  expect(rollout.lossMask).toEqual(response.map((t) => (t.sampled ? 1 : 0)));
}

/**
 * Segment texts against the tokens they came from. Maximal runs of equal mask (a model turn, or the
 * text inserted between two turns) must line up with maximal groups of segments of the matching
 * kinds, and each group's text must be its run detokenized. (Comparing per run, not over the whole
 * response: a random model can end a turn inside a UTF-8 character.)
 */
export function expectSegmentsMatchTokens(rollout: RolloutResult, detokenize: (ids: number[]) => string): void {
  expect(rollout.lossMask.length).toBe(rollout.responseIds.length);
  expect(rollout.responseTokens).toBe(rollout.responseIds.length);
  expect(rollout.modelTokens).toBe(rollout.lossMask.filter((m) => m === 1).length);
  expect(rollout.lossMask.every((m) => m === 0 || m === 1)).toBe(true);

  const runs: Array<{ mask: number; ids: number[] }> = [];
  rollout.responseIds.forEach((id, i) => {
    const mask = rollout.lossMask[i];
    if (runs.length > 0 && runs[runs.length - 1].mask === mask) runs[runs.length - 1].ids.push(id);
    else runs.push({ mask, ids: [id] });
  });
  const groups: Array<{ mask: number; text: string }> = [];
  for (const segment of rollout.segments) {
    const mask = MODEL_SAMPLED_KINDS.has(segment.kind) ? 1 : 0;
    if (groups.length > 0 && groups[groups.length - 1].mask === mask) groups[groups.length - 1].text += segment.text;
    else groups.push({ mask, text: segment.text });
  }
  expect(groups.map((g) => g.mask)).toEqual(runs.map((r) => r.mask));
  for (const [i, g] of groups.entries()) expect(g.text).toBe(detokenize(runs[i].ids));

  const textOf = (sampled: boolean) =>
    rollout.segments
      .filter((s) => MODEL_SAMPLED_KINDS.has(s.kind) === sampled)
      .map((s) => s.text)
      .join("");
  expect(rollout.modelText).toBe(textOf(true));
  expect(rollout.responseText).toBe(rollout.segments.map((s) => s.text).join(""));
}
