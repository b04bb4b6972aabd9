// Which metrics the run and compare pages chart, in display order.
import { METRIC, TIME_PREFIX } from "./sdk.js";

/** What a run is judged by, first everywhere: the held-out accuracy, then the training reward. */
export const HEADLINE_KEYS: string[] = [METRIC.valAccuracy, METRIC.rewardMean, METRIC.accuracyMean];

// Charted even before a run logs them, so a fresh run shows where its curves will appear.
const STANDARD_KEYS: string[] = [...HEADLINE_KEYS, METRIC.validToolCalls, METRIC.responseTokensMean, METRIC.learnerKl];

export const CURRICULUM_KEYS: string[] = [METRIC.stage, METRIC.shots];

/** The standard keys, then every other key by name, so keys sharing a prefix sit together. */
export function orderKeys(available: Iterable<string>): string[] {
  const rest = [...new Set(available)].filter((k) => !STANDARD_KEYS.includes(k)).sort();
  return [...STANDARD_KEYS, ...rest];
}

/**
 * Charted until the user says otherwise: everything but step timings (many, and only of interest
 * when chasing slowness) and the curriculum (already on every chart as stage lines).
 */
export function chartedByDefault(key: string): boolean {
  return !key.startsWith(TIME_PREFIX) && !CURRICULUM_KEYS.includes(key);
}

/** Keys grouped by the part before their first "/", in the order given. */
export function groupByPrefix(keys: string[]): [string, string[]][] {
  const groups = new Map<string, string[]>();
  for (const key of keys) {
    const slash = key.indexOf("/");
    const prefix = slash > 0 ? key.slice(0, slash) : "other";
    groups.set(prefix, [...(groups.get(prefix) ?? []), key]);
  }
  return [...groups];
}

export const PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777"];
