// Step-bucket widths of the pre-aggregated rollups. A chart of N points over a span S reads at most
// S / width buckets from the coarsest level that still gives enough resolution; with levels 4x
// apart that is under 4 N buckets per key. The coarsest level (4,096) also gives each key's extent.
// Levels 64 and 1024 were added later (migration 20261125160000_metric_rollup_levels backfills them).
export const ROLLUP_WIDTHS = [16, 64, 256, 1024, 4096] as const;
