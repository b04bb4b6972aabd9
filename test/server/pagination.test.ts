// Paging is a loop clients write once and trust: `while (hasNextPage) after = endCursor` must end and
// see every row once; a cursor the list never handed out, or a negative `first`, is the client's
// mistake (BAD_USER_INPUT), never a silent restart from the beginning or an internal error.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CreateExperimentDocument,
  CreateRunDocument,
  ExperimentsDocument,
  type ExperimentsQuery,
  IcrlApiError,
  ImportDatasetDocument,
  JobsDocument,
  MetricPointsDocument,
  RolloutsDocument,
} from "../../client-sdk/src/index.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { writeQaJsonl } from "../support/fixtures.js";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

let t: TestServer;
let runId: string;
const NAMES = ["p1", "p2", "p3", "p4", "p5"];

beforeAll(async () => {
  t = await startTestServer();
  for (const name of NAMES) await t.admin.mutate(CreateExperimentDocument, { name });
  const file = path.join(await mkdtemp(path.join(os.tmpdir(), "icrl-paging-")), "qa.jsonl");
  await writeQaJsonl(file, 4);
  const ds = await t.admin.mutate(ImportDatasetDocument, { input: { name: "paging", kind: "QA", format: "JSONL", path: file } });
  const exp = (await t.admin.query(ExperimentsDocument, { first: 1 })).experiments.nodes[0];
  runId = (
    await t.admin.mutate(CreateRunDocument, {
      experimentId: exp.id,
      name: "r",
      config: { model: { path: "m.gguf" }, dataset: { id: ds.importDataset.id } },
    })
  ).createRun.id;
});

afterAll(async () => {
  await t?.close();
});

async function codeOf(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => "OK",
    (e: unknown) => (e instanceof IcrlApiError ? e.code : `not an API error: ${String(e)}`),
  );
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

describe("pagination", () => {
  it("a paging loop ends and sees every row exactly once", async () => {
    const seen: string[] = [];
    let after: string | null = null;
    for (let pages = 0; pages < 10; pages++) {
      const page: ExperimentsQuery = await t.admin.query(ExperimentsDocument, { first: 2, after });
      seen.push(...page.experiments.nodes.map((e) => e.name));
      if (!page.experiments.pageInfo.hasNextPage) break;
      after = page.experiments.pageInfo.endCursor;
    }
    expect(seen.sort()).toEqual([...NAMES].sort());
  });

  it("first: 0 returns the count alone and no next page; a negative first is refused", async () => {
    const counted = (await t.admin.query(ExperimentsDocument, { first: 0 })).experiments;
    expect(counted).toMatchObject({ nodes: [], totalCount: 5, pageInfo: { hasNextPage: false, endCursor: null } });
    const rollouts = (await t.admin.query(RolloutsDocument, { runId, first: 0 })).rollouts;
    expect(rollouts).toMatchObject({ nodes: [], totalCount: 0, pageInfo: { hasNextPage: false } });
    const err = await t.admin.query(ExperimentsDocument, { first: -1 }).catch((e: IcrlApiError) => e);
    expect(err).toBeInstanceOf(IcrlApiError);
    expect([(err as IcrlApiError).code, (err as IcrlApiError).fieldErrors]).toEqual([
      "BAD_USER_INPUT",
      [{ path: "first", message: "must be 0 or more" }],
    ]);
  });

  it("a cursor the list did not hand out is BAD_USER_INPUT, whatever it holds", async () => {
    const experimentsCursor = (await t.admin.query(ExperimentsDocument, { first: 1 })).experiments.pageInfo.endCursor!;
    const bad = ["garbage", "", "12", b64(["abc"]), b64(["99999999999999999999999"]), b64([1]), b64(["1", "2"]), experimentsCursor];
    for (const after of bad) {
      expect(await codeOf(t.admin.query(RolloutsDocument, { runId, after })), `rollouts after ${after}`).toBe("BAD_USER_INPUT");
      expect(await codeOf(t.admin.query(MetricPointsDocument, { runId, after })), `metricPoints after ${after}`).toBe("BAD_USER_INPUT");
      expect(await codeOf(t.admin.query(JobsDocument, { after })), `jobs after ${after}`).toBe("BAD_USER_INPUT");
    }
    for (const after of ["garbage", "", b64(["2026-01-01T00:00:00.000Z"]), b64(["not a date", "00000000-0000-4000-8000-000000000000"])]) {
      expect(await codeOf(t.admin.query(ExperimentsDocument, { after })), `experiments after ${after}`).toBe("BAD_USER_INPUT");
    }
    // A cursor it did hand out still works.
    expect(await codeOf(t.admin.query(ExperimentsDocument, { after: experimentsCursor }))).toBe("OK");
    expect(await codeOf(t.admin.query(RolloutsDocument, { runId, after: b64(["0"]) }))).toBe("OK");
  });

  it("any string as a cursor is answered OK or BAD_USER_INPUT, never an internal error (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string(),
          fc.array(fc.string(), { maxLength: 3 }).map(b64),
          fc.array(fc.bigInt(), { maxLength: 2 }).map((a) => b64(a.map(String))),
        ),
        async (after) => {
          // Each answer gets its handler as it is asked (codeOf), so none is ever an unhandled rejection.
          const codes = await Promise.all([
            codeOf(t.admin.query(RolloutsDocument, { runId, after })),
            codeOf(t.admin.query(ExperimentsDocument, { after })),
            codeOf(t.admin.query(MetricPointsDocument, { runId, after })),
          ]);
          for (const code of codes) expect(["OK", "BAD_USER_INPUT"]).toContain(code);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("metricPoints has a totalCount like every connection", async () => {
    expect((await t.admin.query(MetricPointsDocument, { runId })).metricPoints.totalCount).toBe(0);
  });
});
