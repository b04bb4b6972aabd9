// A rollout filter becomes SQL in one place, so a page and its totalCount filter the same rows.
import type { RolloutFilter } from "../generated/graphql.js";

/** SQL conditions for a rollout filter, appended to `params`. */
export function rolloutFilterSql(filter: Partial<RolloutFilter> | null | undefined, params: unknown[]): string {
  const conds: string[] = [];
  const add = (sql: string, v: unknown) => {
    params.push(v);
    conds.push(sql.replace("?", `$${params.length}`));
  };
  if (filter?.minStep != null) add("step >= ?", filter.minStep);
  if (filter?.maxStep != null) add("step <= ?", filter.maxStep);
  if (filter?.stage != null) add("stage = ?", filter.stage);
  if (filter?.minReward != null) add("reward >= ?", filter.minReward);
  if (filter?.maxReward != null) add("reward <= ?", filter.maxReward);
  if (filter?.hasToolCall === true) conds.push("(tool_calls_valid + tool_calls_invalid) > 0");
  if (filter?.hasToolCall === false) conds.push("(tool_calls_valid + tool_calls_invalid) = 0");
  return conds.length ? " AND " + conds.join(" AND ") : "";
}
