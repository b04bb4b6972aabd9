// Query depth and cost limits, checked once variables are known. Cost counts every selected field,
// multiplied by the page size (`first`) of the list fields above it, so a query that would fan out
// into millions of rows is refused before it runs (QUERY_TOO_COMPLEX, HTTP 400). Introspection is
// exempt from the depth limit: the standard introspection query of graphql-js (what GraphiQL,
// Postman and codegen send) is 13 levels deep and reads only the schema, never the database.
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

const tooComplex = (message: string, limit: Record<string, number>) => apiError("QUERY_TOO_COMPLEX", message, { limit, http: { status: 400 } });

/** Whether the operation only asks about the schema (__schema / __type / __typename at its root). */
export function isIntrospection(document: DocumentNode, operationName: string | null | undefined): boolean {
  const op = selectedOperation(document, operationName);
  return !!op && op.selectionSet.selections.every((s) => s.kind === Kind.FIELD && s.name.value.startsWith("__"));
}

function selectedOperation(document: DocumentNode, operationName: string | null | undefined) {
  const ops = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  const op = ops.find((o) => !operationName || (o.kind === Kind.OPERATION_DEFINITION && o.name?.value === operationName)) ?? ops[0];
  return op?.kind === Kind.OPERATION_DEFINITION ? op : null;
}

export function checkQueryLimits(
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown>,
  limits: { maxDepth: number; maxCost: number },
): void {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const op = selectedOperation(document, operationName);
  if (!op || isIntrospection(document, operationName)) return;

  // A connection's page size multiplies what is asked of each row (`nodes`, `edges`), not its
  // pageInfo or totalCount, which are answered once; a list without nodes is multiplied whole.
  const walk = (set: SelectionSetNode, depth: number, seen: Set<string>, rows = 1): number => {
    if (depth > limits.maxDepth) {
      throw tooComplex(
        `Query is nested ${depth} levels deep; the limit is ${limits.maxDepth} (ICRL_MAX_QUERY_DEPTH). Split it into several queries.`,
        {
          maxDepth: limits.maxDepth,
        },
      );
    }
    let cost = 0;
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) {
        if (!sel.selectionSet) {
          cost += 1;
          continue;
        }
        if (rows > 1 && (sel.name.value === "nodes" || sel.name.value === "edges")) {
          cost += 1 + rows * walk(sel.selectionSet, depth + 1, seen);
          continue;
        }
        const firstArg = sel.arguments?.find((a) => a.name.value === "first");
        const first = argValue(firstArg?.value, variables);
        const fanout = typeof first === "number" ? Math.max(1, first) : (PAGE_DEFAULTS[sel.name.value] ?? (firstArg ? DEFAULT_LIST : 1));
        const isConnection = sel.selectionSet.selections.some((c) => c.kind === Kind.FIELD && (c.name.value === "nodes" || c.name.value === "edges"));
        cost += 1 + (isConnection ? walk(sel.selectionSet, depth + 1, seen, fanout) : fanout * walk(sel.selectionSet, depth + 1, seen));
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        cost += walk(sel.selectionSet, depth, seen, rows);
      } else {
        const name = sel.name.value;
        if (seen.has(name)) throw apiError("BAD_USER_INPUT", `Fragment ${name} spreads itself.`);
        const frag = fragments.get(name);
        if (frag) cost += walk(frag.selectionSet, depth, new Set([...seen, name]), rows);
      }
      if (cost > limits.maxCost) {
        throw tooComplex(
          `Query is too expensive (estimated cost above ${limits.maxCost}, ICRL_MAX_QUERY_COST); ask for fewer items per page or fewer fields.`,
          { maxCost: limits.maxCost },
        );
      }
    }
    return cost;
  };
  walk(op.selectionSet, 1, new Set());
}
