// Which live stream a subscription document opens, so the client can ask the server where it starts
// (Query.liveCursor) before subscribing. With that cursor as `after` from the very first attempt, a
// connection lost before the first event resumes exactly where the subscription began; without it,
// the resubscription would start "now" again and whatever happened in between would be lost.
import { Kind, type DocumentNode, type OperationDefinitionNode } from "graphql";
import type { LiveStream } from "./generated/graphql.js";

export interface LiveStart {
  stream: LiveStream;
  /** The variable naming the run, benchmark run or study (none for JOBS). */
  id: string | null;
  /** runUpdated's `after` is an Int (the run's version); the others are BigInt strings. */
  intCursor: boolean;
}

const STREAMS: Record<string, { stream: LiveStream; idArg: string | null; intCursor?: boolean }> = {
  rolloutAdded: { stream: "ROLLOUTS", idArg: "runId" },
  rolloutsAdded: { stream: "ROLLOUTS", idArg: "runId" },
  metricsAdded: { stream: "METRICS", idArg: "runId" },
  metricsBatch: { stream: "METRICS", idArg: "runId" },
  runUpdated: { stream: "RUN", idArg: "runId", intCursor: true },
  benchmarkProgress: { stream: "BENCHMARK_PROGRESS", idArg: "benchmarkRunId" },
  jobAvailable: { stream: "JOBS", idArg: null },
  studyUpdated: { stream: "STUDY", idArg: "studyId" },
};

/** The stream and its id for a subscription document and its variables; null for anything else. */
export function liveStartOf(document: DocumentNode, variables: Record<string, unknown> | undefined): LiveStart | null {
  const op = document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const field = op?.operation === "subscription" ? op.selectionSet.selections[0] : undefined;
  if (!field || field.kind !== Kind.FIELD) return null;
  const known = STREAMS[field.name.value];
  if (!known) return null;
  let id: string | null = null;
  if (known.idArg) {
    const arg = field.arguments?.find((a) => a.name.value === known.idArg);
    if (!arg) return null;
    if (arg.value.kind === Kind.VARIABLE) id = (variables?.[arg.value.name.value] as string | undefined) ?? null;
    else if (arg.value.kind === Kind.STRING) id = arg.value.value;
    if (id == null) return null;
  }
  return { stream: known.stream, id, intCursor: known.intCursor ?? false };
}
