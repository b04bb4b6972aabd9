// The path check on its own, on real files: the edges the end-to-end test (allowed-paths.test.ts) does
// not walk through a worker: a sibling directory sharing the root's name as a prefix, a file as a root,
// a missing file under a symlinked directory, and the search cache dir.
import { mkdtemp, mkdir, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AllowedPaths } from "../../worker/runtime/allowed-paths.js";
import { JobInputError } from "../../worker/runtime/errors.js";

let dir: string;
let root: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "icrl-allowed-unit-"));
  root = path.join(dir, "root");
  await mkdir(root);
  await mkdir(path.join(dir, "root-evil"));
  await writeFile(path.join(dir, "root-evil", "c.jsonl"), "{}\n");
  await writeFile(path.join(dir, "model.gguf"), "");
  await symlink(path.join(dir, "root-evil"), path.join(root, "linked-dir"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("AllowedPaths", () => {
  it("refuses a sibling whose name starts with the root's", () => {
    const allowed = new AllowedPaths([root]);
    expect(() => allowed.check(path.join(dir, "root-evil", "c.jsonl"), "tools.search.corpus")).toThrow(JobInputError);
    expect(allowed.check(path.join(root, "c.jsonl"), "tools.search.corpus")).toBe(path.join(root, "c.jsonl"));
  });

  it("judges a file that does not exist yet where its symlinked directory really is", () => {
    const allowed = new AllowedPaths([root]);
    expect(() => allowed.check(path.join(root, "linked-dir", "new.jsonl"), "tools.search.corpus")).toThrow(
      `(resolves to ${path.join(dir, "root-evil", "new.jsonl")})`,
    );
  });

  it("takes a file as a root: that file only", () => {
    const allowed = new AllowedPaths([path.join(dir, "model.gguf")]);
    expect(allowed.check(path.join(dir, "model.gguf"), "model.path")).toBe(path.join(dir, "model.gguf"));
    expect(() => allowed.check(path.join(dir, "root-evil", "c.jsonl"), "model.path")).toThrow(/--allow-path <dir>/);
  });

  it("checks and resolves a local search tool's corpus and cache dir, and leaves remote tools alone", () => {
    const allowed = new AllowedPaths([root]);
    const tools = allowed.checkTools({ search: { kind: "local", corpus: `${root}/x/../c.jsonl`, cacheDir: path.join(root, "cache") } }, "tools");
    expect(tools.search).toMatchObject({ corpus: path.join(root, "c.jsonl"), cacheDir: path.join(root, "cache") });
    expect(() => allowed.checkTools({ search: { kind: "local", corpus: path.join(root, "c.jsonl"), cacheDir: dir } }, "tools")).toThrow(
      /^tools\.search\.cacheDir /,
    );
    const remote = { search: { kind: "retriever" as const, url: "http://127.0.0.1:8000/retrieve" } };
    expect(allowed.checkTools(remote, "tools")).toBe(remote);
  });
});
