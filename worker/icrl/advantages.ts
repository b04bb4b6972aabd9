// GRPO advantages: each rollout's reward relative to its group (the G rollouts of one question),
// A_i = (R_i - mean) / (std + eps). Matches verl's compute_grpo_outcome_advantage:
// - std is torch.std, i.e. the UNBIASED sample std (divide by n - 1), not the population std;
// - a group of one rollout gets mean 0 and std 1 (its advantage is its reward / (1 + eps)).
// One deliberate difference: a group whose rewards are all equal gets advantages of exactly 0 (verl
// can leave ~1e-11 of float noise from the mean), and it is flagged so the caller can filter it:
// it carries no learning signal.

export interface GroupAdvantages {
  advantages: number[];
  mean: number;
  std: number;
  /** All rewards equal (always true for a group of one): no signal, candidates for filtering. */
  zeroVariance: boolean;
}

export interface AdvantageOptions {
  /** Default 1e-6 (the paper's). */
  epsilon?: number;
  /** Divide by the std (default true; false gives Dr. GRPO-style mean-centred advantages). */
  normalizeByStd?: boolean;
}

export function groupAdvantages(rewards: readonly number[], options: AdvantageOptions = {}): GroupAdvantages {
  if (rewards.length === 0) throw new RangeError("a group needs at least one reward");
  for (const r of rewards) if (!Number.isFinite(r)) throw new RangeError(`reward ${r} is not a finite number`);
  const epsilon = options.epsilon ?? 1e-6;
  const zeroVariance = rewards.every((r) => r === rewards[0]);
  if (rewards.length === 1) {
    return { advantages: [rewards[0] / ((options.normalizeByStd ?? true) ? 1 + epsilon : 1)], mean: 0, std: 1, zeroVariance };
  }
  const n = rewards.length;
  const mean = rewards.reduce((a, b) => a + b, 0) / n;
  const std = Math.sqrt(rewards.reduce((a, r) => a + (r - mean) ** 2, 0) / (n - 1));
  if (zeroVariance) return { advantages: rewards.map(() => 0), mean: rewards[0], std: 0, zeroVariance };
  const scale = (options.normalizeByStd ?? true) ? std + epsilon : 1;
  return { advantages: rewards.map((r) => (r - mean) / scale), mean, std, zeroVariance };
}

/**
 * Advantages for a flat batch whose rollouts carry a group key (e.g. the question's index in the
 * batch): each rollout is normalised within its own group. Returns per-rollout advantages and the
 * per-group summaries in first-seen order.
 */
export function batchAdvantages<K>(
  rewards: readonly number[],
  groupKeys: readonly K[],
  options: AdvantageOptions = {},
): { advantages: number[]; groups: Map<K, GroupAdvantages> } {
  if (rewards.length !== groupKeys.length) {
    throw new RangeError(`${rewards.length} rewards but ${groupKeys.length} group keys`);
  }
  const members = new Map<K, number[]>();
  groupKeys.forEach((key, i) => {
    const list = members.get(key);
    if (list) list.push(i);
    else members.set(key, [i]);
  });
  const advantages = new Array<number>(rewards.length);
  const groups = new Map<K, GroupAdvantages>();
  for (const [key, indices] of members) {
    const group = groupAdvantages(
      indices.map((i) => rewards[i]),
      options,
    );
    for (const [j, i] of indices.entries()) advantages[i] = group.advantages[j];
    groups.set(key, group);
  }
  return { advantages, groups };
}
