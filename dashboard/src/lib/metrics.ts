// Which metrics the run and compare pages chart, in display order.

export const HEADLINE_KEYS = ["reward/mean", "accuracy/mean"];

export const CHART_KEYS = ["reward/mean", "accuracy/mean", "tools/valid_calls_per_rollout", "response/tokens_mean", "learner/kl"];

export const CURRICULUM_KEYS = ["curriculum/stage", "curriculum/shots"];

/** The standard charts plus every other learner/* metric the run has logged. */
export function chartKeys(available: Iterable<string>): string[] {
  const extra = [...new Set(available)].filter((k) => k.startsWith("learner/") && !CHART_KEYS.includes(k)).sort();
  return [...CHART_KEYS, ...extra];
}

export const PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777"];
