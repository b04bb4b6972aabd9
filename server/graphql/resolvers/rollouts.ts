import type { Resolvers, RolloutFilter } from "../../generated/graphql.js";
import { badInput } from "../../errors.js";
import { metricSeries, seriesPoints, type Series } from "../../metrics/series.js";
import { can, checkId } from "../guards.js";
import { decodeCursor, encodeCursor, pageSize } from "../pagination.js";
import type { GraphQLContext } from "../context.js";

export interface RolloutDbRow {
  id: string;
  run_id: string;
  seq: string;
  step: number;
  stage: number;
  shots: number;
  group_index: number;
  sample_index: number;
  question_id: string;
  segments: unknown;
  reward: number;
  reward_components: unknown;
  advantage: number | null;
  prompt_tokens: number;
  response_tokens: number;
  turns: number;
  tool_calls_valid: number;
  tool_calls_invalid: number;
  finish_reason: string;
  created_at: Date;
}

export function rolloutFromRow(r: RolloutDbRow) {
  return {
    id: String(r.id),
    runId: r.run_id,
    cursor: BigInt(r.seq),
    step: r.step,
    stage: r.stage,
    shots: r.shots,
    groupIndex: r.group_index,
    sampleIndex: r.sample_index,
    questionId: r.question_id,
    segments: r.segments,
    reward: r.reward,
    rewardComponents: r.reward_components,
    advantage: r.advantage,
    promptTokens: r.prompt_tokens,
    responseTokens: r.response_tokens,
    turns: r.turns,
    toolCallsValid: r.tool_calls_valid,
    toolCallsInvalid: r.tool_calls_invalid,
    finishReason: r.finish_reason,
    createdAt: r.created_at,
  };
}

/** SQL conditions for a rollout filter, appended to `params`. Shared by queries and subscriptions. */
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

export async function fetchRolloutsAfter(
  ctx: Pick<GraphQLContext, "pool">,
  runId: string,
  after: bigint,
  limit: number,
  filter?: Partial<RolloutFilter> | null,
) {
  const params: unknown[] = [runId, String(after), limit];
  const where = rolloutFilterSql(filter, params);
  const res = await ctx.pool.query(`SELECT * FROM rollouts WHERE run_id = $1 AND seq > $2${where} ORDER BY seq LIMIT $3`, params);
  return (res.rows as RolloutDbRow[]).map(rolloutFromRow);
}

async function rolloutPage(
  ctx: GraphQLContext,
  runId: string,
  first: number | null | undefined,
  after: string | null | undefined,
  filter: RolloutFilter | null | undefined,
) {
  checkId(runId, "Run");
  const take = pageSize(first);
  const c = decodeCursor(after);
  const from = c ? BigInt(c[0]) : 0n;
  const nodes = await fetchRolloutsAfter(ctx, runId, from, take + 1, filter);
  const hasNextPage = nodes.length > take;
  const kept = hasNextPage ? nodes.slice(0, take) : nodes;
  const params: unknown[] = [runId];
  const where = rolloutFilterSql(filter, params);
  const count = await ctx.pool.query(`SELECT count(*)::int AS n FROM rollouts WHERE run_id = $1${where}`, params);
  const last = kept[kept.length - 1];
  return {
    nodes: kept,
    pageInfo: { endCursor: last ? encodeCursor([last.cursor]) : null, hasNextPage },
    totalCount: count.rows[0].n as number,
  };
}

async function metricPage(
  ctx: GraphQLContext,
  runId: string,
  keys: string[] | null | undefined,
  first: number | null | undefined,
  after: string | null | undefined,
) {
  checkId(runId, "Run");
  const take = pageSize(first, 1000, 10_000);
  const c = decodeCursor(after);
  const res = await ctx.pool.query(
    `SELECT key, step, value, time, seq FROM metric_points
     WHERE run_id = $1 AND seq > $2 AND ($3::text[] IS NULL OR key = ANY($3)) ORDER BY seq LIMIT $4`,
    [runId, c ? c[0] : "0", keys ?? null, take + 1],
  );
  const rows = res.rows.map((r) => ({ key: r.key, step: r.step, value: r.value, time: r.time, cursor: BigInt(r.seq) }));
  const hasNextPage = rows.length > take;
  const nodes = hasNextPage ? rows.slice(0, take) : rows;
  const last = nodes[nodes.length - 1];
  return { nodes, pageInfo: { endCursor: last ? encodeCursor([last.cursor]) : null, hasNextPage } };
}

export const rolloutResolvers: Resolvers = {
  Query: {
    rollouts: (_, { runId, first, after, filter }, ctx) => {
      can(ctx, "read");
      return rolloutPage(ctx, runId, first, after, filter);
    },
    rollout: async (_, { id }, ctx) => {
      can(ctx, "read");
      if (!/^\d+$/.test(id)) throw badInput(`Rollout id ${JSON.stringify(id)} is not valid (expected digits).`);
      const res = await ctx.pool.query("SELECT * FROM rollouts WHERE id = $1", [id]);
      return res.rows[0] ? rolloutFromRow(res.rows[0]) : null;
    },
    metricPoints: (_, { runId, keys, first, after }, ctx) => {
      can(ctx, "read");
      return metricPage(ctx, runId, keys, first, after);
    },
    metricSeries: async (_, { runId, keys, maxPoints, minStep, maxStep }, ctx) => {
      can(ctx, "read");
      checkId(runId, "Run");
      if (keys.length > 50) throw badInput("Ask for at most 50 metric keys per metricSeries call.");
      const mp = maxPoints ?? 1000;
      if (mp < 2 || mp > 10_000) throw badInput("maxPoints must be between 2 and 10000.", [{ path: "maxPoints", message: "between 2 and 10000" }]);
      return metricSeries(ctx.pool, runId, keys, { maxPoints: mp, minStep, maxStep });
    },
  },
  Run: {
    rollouts: (run, { first, after, filter }, ctx) => rolloutPage(ctx, run.id as string, first, after, filter),
    metrics: (run, { keys, first, after }, ctx) => metricPage(ctx, run.id as string, keys, first, after),
  },
  // Series are built as columns (server/metrics/series.ts); one object per point only when asked.
  MetricSeries: {
    points: (s) => seriesPoints((s as Series).columns),
  },
};
