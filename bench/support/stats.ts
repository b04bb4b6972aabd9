// Small numeric helpers shared by the control-plane benchmarks.

/** Nearest-rank percentile (p in 0..100) of unsorted values. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export const round = (value: number, digits = 2): number => {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
};

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across processes on one host. */
export const wallMs = (): number => performance.timeOrigin + performance.now();

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Progress lines go to stderr so the figures stay the last line of stdout. */
export const progress = (message: string): void => {
  process.stderr.write(`[bench] ${message}\n`);
};

/** z for a two-sided 95% interval: the standard normal's 97.5th percentile. */
const Z_95 = 1.959963984540054;

/**
 * Wilson score interval of a binomial proportion (successes of n): unlike the normal approximation it
 * stays inside [0, 1] and is not empty at 0 or n successes, where a prior's search rate often is.
 */
export function wilsonInterval(successes: number, n: number, z = Z_95): { low: number; high: number } {
  if (!(Number.isInteger(successes) && Number.isInteger(n) && n > 0 && successes >= 0 && successes <= n)) {
    throw new RangeError(`wilsonInterval needs 0 <= successes <= n, n > 0 integers, got ${successes} of ${n}`);
  }
  const p = successes / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}
