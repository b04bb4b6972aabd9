-- Two more metric rollup levels, 64 and 1024 steps (server/metrics/rollup.ts: ROLLUP_WIDTHS is now
-- 16, 64, 256, 1024, 4096), so a chart reads at most ~4x as many rollup buckets as it shows points.
-- Built from the next finer level: a width-64 bucket is exactly four width-16 buckets (bucket >> 2
-- is floor(bucket / 4), negative steps included), a width-1024 bucket four width-256 ones.
INSERT INTO "metric_rollups" ("run_id", "key", "width", "bucket", "min", "max", "sum", "count", "first", "last", "first_step", "last_step")
SELECT "run_id", "key", "width" * 4, "bucket" >> 2, min("min"), max("max"), sum("sum"), sum("count")::int,
  (array_agg("first" ORDER BY "first_step"))[1], (array_agg("last" ORDER BY "last_step" DESC))[1],
  min("first_step"), max("last_step")
FROM "metric_rollups"
WHERE "width" IN (16, 256)
GROUP BY "run_id", "key", "width", "bucket" >> 2
ON CONFLICT DO NOTHING;
