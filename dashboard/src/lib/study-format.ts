// How the study pages write a study's numbers. Shared with the browser tests, which compare the page
// with the API's own summary written the same way.
import { fmtNum } from "./format.js";

interface Progress {
  total: number;
  queued: number;
  running: number;
  succeeded: number;
  failed: number;
  cancelled: number;
}

/** "3/4 succeeded · 1 running": the finished share first, then every other state that has runs. */
export function fmtProgress(p: Progress): string {
  const rest = (["running", "queued", "failed", "cancelled"] as const).filter((k) => p[k] > 0).map((k) => `${p[k]} ${k}`);
  return [`${p.succeeded}/${p.total} succeeded`, ...rest].join(" · ");
}

/** A t-interval as "[lo, hi]"; empty when there is none (fewer than two values). */
export function fmtInterval(lo: number | null | undefined, hi: number | null | undefined): string {
  return lo == null || hi == null ? "" : `[${fmtNum(lo)}, ${fmtNum(hi)}]`;
}

/** "0.500 ± 0.318": the interval is symmetric about the mean, so its half-width says it all. */
export function fmtMeanCi(mean: number | null | undefined, lo: number | null | undefined, hi: number | null | undefined): string {
  if (mean == null) return "–";
  return lo == null || hi == null ? fmtNum(mean) : `${fmtNum(mean)} ± ${fmtNum((hi - lo) / 2)}`;
}

/** A difference and its interval: "+0.250 [-0.385, 0.885]". */
export function fmtDifference(mean: number | null | undefined, lo: number | null | undefined, hi: number | null | undefined): string {
  if (mean == null) return "–";
  // Written like every other number of the table (a tiny difference as 1.27e-5, not +0.000), with its sign.
  const signed = `${mean > 0 ? "+" : ""}${fmtNum(mean)}`;
  const interval = fmtInterval(lo, hi);
  return interval ? `${signed} ${interval}` : signed;
}

export function fmtPValue(p: number | null | undefined): string {
  if (p == null) return "–";
  return p < 0.001 ? "<0.001" : p.toFixed(3);
}

export function fmtArmsBySeeds(arms: number, seeds: number): string {
  return `${arms} × ${seeds}`;
}
