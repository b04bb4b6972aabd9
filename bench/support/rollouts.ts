// Rollout payloads for the control-plane benchmarks: the test fixture's ICRL search trajectory with
// 2-8 KB of text and 4-6 segments, varied deterministically so no two batches are identical.
import type { RolloutRecord } from "../../contracts/index.js";
import { makeRollout } from "../../test/support/fixtures.js";

/** Total characters of segment text in a rollout. */
export const textBytes = (r: RolloutRecord): number => r.segments.reduce((n, s) => n + s.text.length, 0);

/** Rollout number `i` of a stream: steps of 8 groups x 8 samples, text 2-8 KB, 4-6 segments. */
export function benchRollout(i: number, stepOffset = 0): RolloutRecord {
  const step = stepOffset + Math.floor(i / 64);
  const group = Math.floor(i / 8) % 8;
  const sample = i % 8;
  const targetText = 2000 + ((i * 2654435761) % 6001); // 2,000..8,000 characters of text
  // makeRollout spreads about 3/4 of `textBytes` over its segments.
  const r = makeRollout(step, group, sample, Math.round((targetText * 4) / 3));
  const variant = i % 3;
  if (variant === 1) r.segments = r.segments.filter((s) => s.kind !== "TOOL_CALL"); // 4 segments
  if (variant === 2) r.segments = [...r.segments, { kind: "TOOL_RESULT", text: "<information>Doc 2(Title: Founding) no match</information>" }]; // 6
  return r;
}

/** `count` rollouts cut into batches of `batch`. */
export function rolloutBatches(count: number, batch: number, stepOffset = 0): RolloutRecord[][] {
  const out: RolloutRecord[][] = [];
  for (let start = 0; start < count; start += batch) {
    out.push(Array.from({ length: Math.min(batch, count - start) }, (_, k) => benchRollout(start + k, stepOffset)));
  }
  return out;
}
