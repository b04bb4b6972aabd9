// Dataset import in the formats users already have: verl parquet rows (from a server path or an
// uploaded artifact) and JSONL, with clear errors for files that are not what they claim.
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parquetWriteBuffer } from "hyparquet-writer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CreateApiKeyDocument,
  DatasetDocument,
  type DatasetQuery,
  type IcrlApiError,
  ImportDatasetDocument,
  DatasetsDocument,
} from "../../client-sdk/src/index.js";
import { startTestServer, type TestServer } from "../support/server.js";

let t: TestServer;
let dir: string;

function verlRows(n: number) {
  return Array.from({ length: n }, (_, i) => ({
    data_source: "nq",
    prompt: [{ role: "user", content: `Question number ${i}?` }],
    ability: "fact-reasoning",
    reward_model: { style: "rule", ground_truth: { target: [`answer ${i}`, `alt ${i}`] } },
    extra_info: { split: i % 5 === 0 ? "test" : "train", index: i },
  }));
}

function parquetOf(rows: Record<string, unknown>[], codec?: "GZIP" | "ZSTD"): Buffer {
  const columnData = Object.keys(rows[0]).map((name) => ({ name, data: rows.map((r) => r[name]) }));
  const compressors = { GZIP: (b: Uint8Array) => new Uint8Array(gzipSync(b)), ZSTD: zstdStored };
  return Buffer.from(parquetWriteBuffer({ columnData: columnData as never, ...(codec ? { codec, compressors } : {}) }));
}

const verlParquet = (n: number) => parquetOf(verlRows(n));

/**
 * A valid Zstandard frame holding the bytes in raw (stored) blocks: Node 20's zlib has no zstd
 * encoder, and a reader must decode any conforming frame, stored blocks included (RFC 8878).
 */
function zstdStored(bytes: Uint8Array): Uint8Array {
  const parts: Buffer[] = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0xa0])]; // magic; single segment, 4-byte content size
  const size = Buffer.alloc(4);
  size.writeUInt32LE(bytes.length);
  parts.push(size);
  const MAX = 128 * 1024;
  for (let at = 0; at < bytes.length || at === 0; at += MAX) {
    const block = bytes.subarray(at, at + MAX);
    const last = at + MAX >= bytes.length ? 1 : 0;
    const header = (block.length << 3) | last; // block type 0: raw
    parts.push(Buffer.from([header & 0xff, (header >> 8) & 0xff, (header >> 16) & 0xff]), Buffer.from(block));
    if (last) break;
  }
  return new Uint8Array(Buffer.concat(parts));
}

beforeAll(async () => {
  t = await startTestServer();
  dir = await mkdtemp(path.join(os.tmpdir(), "icrl-import-"));
});
afterAll(async () => {
  await t?.close();
});

describe("verl parquet import", () => {
  it("reads questions, golds and splits from a server path", async () => {
    const file = path.join(dir, "nq.parquet");
    await writeFile(file, verlParquet(25));
    const ds = await t.admin.mutate(ImportDatasetDocument, { input: { name: "nq-verl", kind: "QA", format: "VERL_PARQUET", path: file } });
    expect(ds.importDataset).toMatchObject({ itemCount: 25, splits: ["test", "train"] });
    const items = await t.admin.query(DatasetDocument, { id: ds.importDataset.id, split: "test", first: 10 });
    expect(items.dataset!.items.totalCount).toBe(5);
    expect(items.dataset!.items.nodes[0]).toMatchObject({ externalId: "0", question: "Question number 0?", golds: ["answer 0", "alt 0"] });
  });

  it("members import from an uploaded artifact, not from server paths", async () => {
    const member = t.client((await t.admin.mutate(CreateApiKeyDocument, { name: "m", role: "MEMBER" })).createApiKey.secret);
    const file = path.join(dir, "upload.parquet");
    const bytes = verlParquet(7);
    await writeFile(file, bytes);
    const denied = await member
      .mutate(ImportDatasetDocument, { input: { name: "by-path", kind: "QA", format: "VERL_PARQUET", path: file } })
      .catch((e) => e);
    expect((denied as IcrlApiError).code).toBe("FORBIDDEN");
    const sha = createHash("sha256").update(bytes).digest("hex");
    const res = await member.http(`/artifacts?kind=DATASET&name=upload.parquet&sha256=${sha}`, { method: "POST", body: new Uint8Array(bytes) });
    expect(res.status).toBe(201);
    const artifact = await res.json();
    const ds = await member.mutate(ImportDatasetDocument, {
      input: { name: "uploaded", kind: "QA", format: "VERL_PARQUET", artifactId: artifact.id },
    });
    expect(ds.importDataset.itemCount).toBe(7);
    expect(ds.importDataset.source).toContain(artifact.id);
  });

  it("reads pages compressed with GZIP and ZSTD, as pyarrow and polars write them", async () => {
    for (const codec of ["GZIP", "ZSTD"] as const) {
      const file = path.join(dir, `nq-${codec}.parquet`);
      await writeFile(file, parquetOf(verlRows(12), codec));
      const ds = await t.admin.mutate(ImportDatasetDocument, { input: { name: `nq-${codec}`, kind: "QA", format: "VERL_PARQUET", path: file } });
      expect(ds.importDataset.itemCount).toBe(12);
      const items = await t.admin.query(DatasetDocument, { id: ds.importDataset.id, first: 12 });
      expect(items.dataset!.items.nodes.map((n) => n.question)).toEqual(verlRows(12).map((r) => r.prompt[0].content));
    }
  });

  it("takes Search-R1's bare question, not its instruction prompt, and says which field it used", async () => {
    const rows = [0, 1].map((i) => ({
      id: `train_${i}`,
      question: `who wrote hamlet ${i}`,
      golden_answers: ["Shakespeare"],
      data_source: "nq",
      prompt: [
        {
          role: "user",
          content: `Answer the given question. You must conduct reasoning inside <think> and </think> ... Question: who wrote hamlet ${i}?`,
        },
      ],
      ability: "fact-reasoning",
      reward_model: { style: "rule", ground_truth: { target: ["Shakespeare"] } },
      extra_info: { split: "train", index: i },
    }));
    const file = path.join(dir, "nq_search.parquet");
    await writeFile(file, parquetOf(rows));
    const ds = await t.admin.mutate(ImportDatasetDocument, { input: { name: "nq-search", kind: "QA", format: "VERL_PARQUET", path: file } });
    const item = (await t.admin.query(DatasetDocument, { id: ds.importDataset.id, first: 1 })).dataset!.items.nodes[0];
    expect(item).toMatchObject({ question: "who wrote hamlet 0", golds: ["Shakespeare"] });
    expect(item.extra).toMatchObject({ question_field: "question", data_source: "nq" });
  });

  it("refuses items whose ids repeat (two sources merged), naming both, and stores nothing", async () => {
    const hotpot = verlRows(3).map((r) => ({ ...r, data_source: "hotpotqa" }));
    const file = path.join(dir, "merged.parquet");
    await writeFile(file, parquetOf([...verlRows(3), ...hotpot]));
    const before = (await t.admin.query(DatasetsDocument, {})).datasets.totalCount;
    const err = (await t.admin
      .mutate(ImportDatasetDocument, { input: { name: "merged", kind: "QA", format: "VERL_PARQUET", path: file } })
      .catch((e) => e)) as IcrlApiError;
    expect(err.code).toBe("BAD_USER_INPUT");
    expect(err.message).toContain('item 4 (data_source hotpotqa) has id "0", like item 1: ids must be unique within a dataset');
    expect((await t.admin.query(DatasetsDocument, {})).datasets.totalCount).toBe(before);
  });

  it("rejects a file that is not parquet, and keeps existing datasets intact", async () => {
    const file = path.join(dir, "fake.parquet");
    await writeFile(file, "this is not parquet");
    const before = (await t.admin.query(DatasetsDocument, {})).datasets.totalCount;
    const err = (await t.admin
      .mutate(ImportDatasetDocument, { input: { name: "fake", kind: "QA", format: "VERL_PARQUET", path: file } })
      .catch((e) => e)) as IcrlApiError;
    expect(err.code).toBe("BAD_USER_INPUT");
    expect(err.message).toMatch(/parquet/);
    expect((await t.admin.query(DatasetsDocument, {})).datasets.totalCount).toBe(before);
  });
});

describe("raw GSM8K import", () => {
  const fixtures = path.join(import.meta.dirname, "..", "fixtures", "data");

  it("takes the number after #### as the gold and keeps the worked solution in extra", async () => {
    // The published file (answer = worked solution) and the unified copy (answer = the number) agree.
    const file = path.join(fixtures, "gsm8k", "test.jsonl");
    const ds = (await t.admin.mutate(ImportDatasetDocument, { input: { name: "gsm8k-raw", kind: "MATH", format: "JSONL", path: file } }))
      .importDataset;
    expect(ds.itemCount).toBe(400);
    const unified = (await readFile(path.join(fixtures, "unified", "gsm8k_test.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { answer: string });
    const items = [];
    let after: string | null = null;
    do {
      const page: DatasetQuery = await t.admin.query(DatasetDocument, { id: ds.id, first: 200, after });
      items.push(...page.dataset!.items.nodes);
      after = page.dataset!.items.pageInfo.hasNextPage ? page.dataset!.items.pageInfo.endCursor : null;
    } while (after);
    expect(items.map((i) => i.golds)).toEqual(unified.map((u) => [u.answer]));
    expect(items[0]).toMatchObject({ golds: ["18"], extra: { solution: expect.stringMatching(/^Janet sells 16 - 3 - 4 = .*\n#### 18$/s) } });
  });

  it("refuses a solution whose #### has no number, naming the line", async () => {
    const file = path.join(dir, "gsm8k-bad.jsonl");
    await writeFile(
      file,
      [
        JSON.stringify({ question: "1+1?", answer: "One and one.\n#### 2" }),
        JSON.stringify({ question: "2+2?", answer: "Two and two.\n#### four" }),
      ].join("\n"),
    );
    const err = (await t.admin
      .mutate(ImportDatasetDocument, { input: { name: "gsm8k-bad", kind: "MATH", format: "JSONL", path: file } })
      .catch((e: unknown) => e)) as IcrlApiError;
    expect(err.code).toBe("BAD_USER_INPUT");
    expect(err.message).toContain('line 2: "answer" looks like a GSM8K solution ("####") but no number follows "#### "');
    const names = (await t.admin.query(DatasetsDocument, { first: 100, includeArchived: true })).datasets.nodes.map((d) => d.name);
    expect(names).not.toContain("gsm8k-bad");
  });
});
