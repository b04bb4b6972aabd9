// log p(target) from a position's raw logits, accumulated in float64: the engine's log-probs are compared
// with PyTorch's to ~1e-5, and a float32 sum over a 150k vocabulary would add error of that order.

export function logProbOf(logits: ReadonlyMap<number, number>, target: number): number {
  const targetLogit = logits.get(target);
  if (targetLogit === undefined) throw new Error(`no logit for token ${target}`);
  let max = -Infinity;
  for (const v of logits.values()) if (v > max) max = v;
  let sum = 0;
  for (const v of logits.values()) sum += Math.exp(v - max);
  return targetLogit - max - Math.log(sum);
}
