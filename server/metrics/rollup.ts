// Step-bucket widths of the pre-aggregated rollups. A chart of N points over a span S reads at most
// S / width buckets from the coarsest level that still gives enough resolution.
export const ROLLUP_WIDTHS = [16, 256, 4096] as const;
