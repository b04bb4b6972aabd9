// Every mutation, called with generated inputs (hardening: fault matrix, "bad input"): wrong-typed
// values, oversize strings and lists, boundary numbers, ids that do not exist and ids that do. Whatever
// comes in, the answer is a coded error a client can act on, never INTERNAL_SERVER_ERROR or an HTTP 500,
// and a call that fails changes nothing stored (every table's rows are compared before and after).
// The arguments come from schema.graphql itself, so a new mutation is covered the day it is added.
import fc from "fast-check";
import {
  buildSchema,
  getNamedType,
  type GraphQLInputType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type GraphQLField,
} from "graphql";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ClaimJobDocument,
  CreateApiKeyDocument,
  CreateExperimentDocument,
  CreateRunDocument,
  ImportDatasetDocument,
  RegisterWorkerDocument,
} from "../../client-sdk/src/index.js";
import { typeDefs } from "../../server/graphql/schema.js";
import { ADMIN_KEY, startTestServer, type TestServer } from "../support/server.js";
import { writeQaJsonl } from "../support/fixtures.js";

let t: TestServer;
let db: pg.Client;
const known: string[] = [];
// Written by the server on reads too (a key's last use, a worker's last call): not a stored change.
const VOLATILE_COLUMNS = new Set(["last_used_at", "last_seen_at"]);
let fingerprintSql = "";
let workerToken = "";
const WORKER_PROTOCOL = new Set([
  "claimJob",
  "heartbeat",
  "releaseJob",
  "completeJob",
  "failJob",
  "reportRunProgress",
  "reportRollouts",
  "logMetrics",
  "reportBenchmarkItems",
  "truncateRun",
  "signOffWorker",
]);

beforeAll(async () => {
  t = await startTestServer();
  const file = path.join(await mkdtemp(path.join(os.tmpdir(), "icrl-fuzz-")), "qa.jsonl");
  await writeQaJsonl(file, 4);
  const ds = (await t.admin.mutate(ImportDatasetDocument, { input: { name: "fuzz", kind: "QA", format: "JSONL", path: file } })).importDataset.id;
  const exp = (await t.admin.mutate(CreateExperimentDocument, { name: "fuzz" })).createExperiment.id;
  const run = (await t.admin.mutate(CreateRunDocument, { experimentId: exp, name: "r", config: { model: { path: "m.gguf" }, dataset: { id: ds } } }))
    .createRun.id;
  known.push(ds, exp, run);
  // The worker protocol is called with a registered worker's token and a job it holds, so the calls
  // get past "who are you" into the mutations themselves.
  const reg = (await t.admin.mutate(CreateApiKeyDocument, { name: "fuzz-workers", role: "WORKER" })).createApiKey.secret;
  workerToken = (await t.client(reg).mutate(RegisterWorkerDocument, { name: "fuzz", capabilities: { backend: "cpu" } })).registerWorker.token;
  known.push((await t.client(workerToken).mutate(ClaimJobDocument, {})).claimJob!.job.id);
  db = new pg.Client({ connectionString: t.databaseUrl });
  await db.connect();
  const cols = await db.query<{ table_name: string; column_name: string }>(
    `SELECT table_name, column_name FROM information_schema.columns
     WHERE table_schema = current_schema() AND table_name <> '_prisma_migrations' ORDER BY table_name, ordinal_position`,
  );
  const byTable = new Map<string, string[]>();
  for (const c of cols.rows)
    if (!VOLATILE_COLUMNS.has(c.column_name)) byTable.set(c.table_name, [...(byTable.get(c.table_name) ?? []), c.column_name]);
  fingerprintSql = [...byTable]
    .map(([table, columns]) => {
      const row = `concat_ws('|', ${columns.map((c) => `"${c}"::text`).join(", ")})`;
      return `SELECT '${table}' AS t, md5(coalesce(string_agg(${row}, E'\\n' ORDER BY ${row}), '')) AS h FROM "${table}"`;
    })
    .join(" UNION ALL ");
}, 120_000);

afterAll(async () => {
  await db?.end();
  await t?.close();
});

async function fingerprint(): Promise<Record<string, string>> {
  return Object.fromEntries((await db.query<{ t: string; h: string }>(fingerprintSql)).rows.map((r) => [r.t, r.h]));
}

const schema = buildSchema(typeDefs);
const mutations = Object.values(schema.getMutationType()!.getFields());

const anyJson = fc.jsonValue({ maxDepth: 2 });
const oversize = fc.integer({ min: 10_000, max: 200_000 }).map((n) => "x".repeat(n));

/** `small`: inside an oversize list, where oversize strings would make requests of hundreds of MB. */
function argumentOf(type: GraphQLInputType, depth: number, small = false): fc.Arbitrary<unknown> {
  // Mostly well-typed (so calls reach the resolvers), now and then null where it may not be, or a value
  // of the wrong type.
  if (isNonNullType(type))
    return fc.oneof({ weight: 30, arbitrary: argumentOf(type.ofType, depth, small) }, { weight: 1, arbitrary: fc.constant(null) });
  const nullable = (arb: fc.Arbitrary<unknown>) =>
    fc.oneof({ weight: 20, arbitrary: arb }, { weight: 2, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: anyJson });
  if (isListType(type)) {
    const item = argumentOf(type.ofType, depth + 1, small);
    const oversizeList = fc.array(argumentOf(type.ofType, depth + 1, true), { minLength: 1001, maxLength: 1200 });
    return nullable(
      small
        ? fc.array(item, { maxLength: 2 })
        : fc.oneof({ weight: 5, arbitrary: fc.array(item, { maxLength: 3 }) }, { weight: 1, arbitrary: oversizeList }),
    );
  }
  if (isEnumType(type)) return nullable(fc.oneof(fc.constantFrom(...type.getValues().map((v) => v.name)), fc.string()));
  if (isInputObjectType(type)) {
    if (depth > 3) return fc.constant(null);
    const fields = Object.values(type.getFields());
    const record: Record<string, fc.Arbitrary<unknown>> = {};
    for (const f of fields) record[f.name] = argumentOf(f.type, depth + 1, small);
    return nullable(
      fc.oneof(
        { weight: 6, arbitrary: fc.record(record, { requiredKeys: fields.filter((f) => isNonNullType(f.type)).map((f) => f.name) }) },
        { weight: 1, arbitrary: fc.record({ ...record, notAField: anyJson }) },
      ),
    );
  }
  if (isScalarType(type)) {
    switch (type.name) {
      case "ID":
        return nullable(fc.oneof(fc.constantFrom(...known), fc.uuid(), fc.string(), fc.constant("")));
      case "String":
        return nullable(
          fc.oneof({ weight: 6, arbitrary: fc.string() }, { weight: 1, arbitrary: fc.constant("") }, { weight: small ? 0 : 1, arbitrary: oversize }),
        );
      case "Int":
        return nullable(fc.oneof(fc.integer(), fc.constantFrom(0, -1, 1, 2147483647, -2147483648)));
      case "Float":
        return nullable(fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(0, -1, 1e308, -1e-308)));
      case "Boolean":
        return nullable(fc.boolean());
      case "BigInt":
        return nullable(fc.oneof(fc.bigInt().map(String), fc.constantFrom("0", "-1", "99999999999999999999999", "1e3", "")));
      case "DateTime":
        return nullable(
          fc.oneof(
            fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
            fc.string(),
          ),
        );
      default:
        return nullable(anyJson); // JSON
    }
  }
  return anyJson;
}

function documentFor(field: GraphQLField<unknown, unknown>): string {
  const vars = field.args.map((a) => `$${a.name}: ${String(a.type)}`).join(", ");
  const args = field.args.map((a) => `${a.name}: $${a.name}`).join(", ");
  const selection = isObjectType(getNamedType(field.type)) ? " { __typename }" : "";
  return `mutation Fuzz${vars ? `(${vars})` : ""} { ${field.name}${args ? `(${args})` : ""}${selection} }`;
}

const call = fc.constantFrom(...mutations).chain((field) => {
  const record: Record<string, fc.Arbitrary<unknown>> = {};
  for (const a of field.args) record[a.name] = argumentOf(a.type, 0);
  return fc.record(record).map((variables) => ({ field: field.name, query: documentFor(field), variables }));
});

describe("every mutation with generated bad, oversize and boundary input", () => {
  it("answers with a coded error, never an internal one, and a failed call stores nothing", { timeout: 600_000 }, async () => {
    let before = await fingerprint();
    const outcomes = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(call, async ({ field, query, variables }) => {
        const res = await fetch(t.server.graphqlUrl, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${WORKER_PROTOCOL.has(field) ? workerToken : ADMIN_KEY}` },
          body: JSON.stringify({ query, variables }),
        });
        const body = (await res.json().catch(() => null)) as {
          data?: Record<string, unknown> | null;
          errors?: { extensions?: { code?: string } }[];
        } | null;
        const codes = (body?.errors ?? []).map((e) => e.extensions?.code ?? "NO CODE");
        for (const code of codes.length ? codes : ["OK"]) outcomes.set(`${field} ${code}`, (outcomes.get(`${field} ${code}`) ?? 0) + 1);
        expect(res.status, `${field}: HTTP ${res.status} ${JSON.stringify(body?.errors)}`).toBeLessThan(500);
        const unexpected = (body?.errors ?? []).filter((e) => !e.extensions?.code || e.extensions.code === "INTERNAL_SERVER_ERROR");
        expect(unexpected, `${field}: ${JSON.stringify(unexpected).slice(0, 2000)}`).toEqual([]);
        const after = await fingerprint();
        if (codes.length) expect(after, `${field} failed with ${codes.join(", ")} but changed stored rows`).toEqual(before);
        before = after;
      }),
      { numRuns: 300, seed: 20261206, endOnFailure: true },
    );
    console.log("mutation fuzz outcomes", JSON.stringify(Object.fromEntries([...outcomes].sort())));
    // Not a vacuous run: every mutation was called, and most calls reached past argument checks.
    const called = new Set([...outcomes.keys()].map((k) => k.split(" ")[0]));
    expect([...called].sort()).toEqual(mutations.map((m) => m.name).sort());
    const reached = new Set([...outcomes.keys()].filter((k) => !k.endsWith(" BAD_USER_INPUT")).map((k) => k.split(" ")[0]));
    expect(reached.size, "mutations whose resolver answered at least once").toBeGreaterThanOrEqual(Math.floor(mutations.length / 2));
  });
});
