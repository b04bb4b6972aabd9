// Query depth and cost limits, checked once variables are known. Cost counts every selected field,
// multiplied by the page size (`first`) of the list fields above it, so a query that would fan out
// into millions of rows is refused before it runs.
import { Kind, type DocumentNode, type FragmentDefinitionNode, type SelectionSetNode, type ValueNode } from "graphql";
import { apiError } from "../errors.js";

const DEFAULT_LIST = 50;
/** Page sizes the schema applies when `first` is omitted. */
const PAGE_DEFAULTS: Record<string, number> = {
  runs: 50,
  rollouts: 50,
  experiments: 50,
  datasets: 50,
  benchmarkRuns: 50,
  jobs: 50,
  items: 50,
  metrics: 1000,
  metricPoints: 1000,
  jobDatasetItems: 500,
};

function argValue(v: ValueNode | undefined, variables: Record<string, unknown>): unknown {
  if (!v) return undefined;
  if (v.kind === Kind.VARIABLE) return variables[v.name.value];
  if (v.kind === Kind.INT) return Number(v.value);
  return undefined;
}

export function checkQueryLimits(
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown>,
  limits: { maxDepth: number; maxCost: number },
): void {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const ops = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  const op = ops.find((o) => !operationName || (o.kind === Kind.OPERATION_DEFINITION && o.name?.value === operationName)) ?? ops[0];
  if (!op || op.kind !== Kind.OPERATION_DEFINITION) return;

  const walk = (set: SelectionSetNode, depth: number, seen: Set<string>): number => {
    if (depth > limits.maxDepth) {
      throw apiError("BAD_USER_INPUT", `Query is nested ${depth} levels deep; the limit is ${limits.maxDepth}. Split it into several queries.`);
    }
    let cost = 0;
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) {
        if (!sel.selectionSet) {
          cost += 1;
          continue;
        }
        const firstArg = sel.arguments?.find((a) => a.name.value === "first");
        const first = argValue(firstArg?.value, variables);
        const fanout = typeof first === "number" ? Math.max(1, first) : (PAGE_DEFAULTS[sel.name.value] ?? (firstArg ? DEFAULT_LIST : 1));
        cost += 1 + fanout * walk(sel.selectionSet, depth + 1, seen);
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        cost += walk(sel.selectionSet, depth, seen);
      } else {
        const name = sel.name.value;
        if (seen.has(name)) throw apiError("BAD_USER_INPUT", `Fragment ${name} spreads itself.`);
        const frag = fragments.get(name);
        if (frag) cost += walk(frag.selectionSet, depth, new Set([...seen, name]));
      }
      if (cost > limits.maxCost) {
        throw apiError(
          "BAD_USER_INPUT",
          `Query is too expensive (estimated cost above ${limits.maxCost}); ask for fewer items per page or fewer fields.`,
        );
      }
    }
    return cost;
  };
  walk(op.selectionSet, 1, new Set());
}
