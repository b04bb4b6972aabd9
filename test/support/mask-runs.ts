// A rollout's loss mask against its segments: consecutive tokens of equal mask (sampled 1, inserted 0)
// decoded, beside consecutive segments of the same side joined. Equal lists mean every mask boundary is
// exactly a segment boundary, in tokens the model sampled or the loop inserted.
import { MODEL_SAMPLED_KINDS } from "../../contracts/index.js";
import type { RolloutResult } from "../../worker/icrl/index.js";

type Run = [mask: number, text: string];

export function maskRuns(result: RolloutResult, detokenize: (ids: number[]) => string): { tokens: Run[]; segments: Run[] } {
  const ids: [number, number[]][] = [];
  result.responseIds.forEach((id, i) => {
    const last = ids.at(-1);
    if (last && last[0] === result.lossMask[i]) last[1].push(id);
    else ids.push([result.lossMask[i], [id]]);
  });
  const segments: Run[] = [];
  for (const s of result.segments) {
    const mask = MODEL_SAMPLED_KINDS.has(s.kind) ? 1 : 0;
    const last = segments.at(-1);
    if (last && last[0] === mask) last[1] += s.text;
    else segments.push([mask, s.text]);
  }
  return { tokens: ids.map(([mask, run]) => [mask, detokenize(run)]), segments: segments.filter(([, text]) => text !== "") };
}
