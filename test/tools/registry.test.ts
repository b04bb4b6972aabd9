// Building tools from a worker's configuration: validation, each kind, and the resulting tools working.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalPythonTool } from "../../worker/tools/python/local-python-tool.js";
import { SandboxFusionTool } from "../../worker/tools/python/sandbox-fusion.js";
import { buildTools, toolsConfigSchema } from "../../worker/tools/registry.js";
import { LocalSearchTool } from "../../worker/tools/search/local-search-tool.js";
import { RetrieverSearchTool } from "../../worker/tools/search/retriever-client.js";
import { searchR1Corpus } from "./helpers.js";

let cacheDir: string;
beforeAll(async () => {
  cacheDir = await mkdtemp(path.join(tmpdir(), "icrl-registry-"));
});
afterAll(() => rm(cacheDir, { recursive: true, force: true }));

describe("tool registry", () => {
  it("rejects configurations that cannot work", () => {
    expect(toolsConfigSchema.safeParse({ python: { kind: "docker" } }).success).toBe(false);
    expect(toolsConfigSchema.safeParse({ search: { kind: "local" } }).success).toBe(false);
    expect(toolsConfigSchema.safeParse({ search: { kind: "retriever", url: "not a url" } }).success).toBe(false);
    expect(toolsConfigSchema.safeParse({ python: { kind: "sandbox-fusion" } }).success).toBe(false);
    expect(toolsConfigSchema.safeParse({ python: { kind: "local", timeoutS: -1 } }).success).toBe(false);
    expect(toolsConfigSchema.safeParse({ python: { kind: "local", pythonPath: "/opt/python3" } }).success).toBe(false);
  });

  it("fills in the documented defaults", () => {
    const parsed = toolsConfigSchema.parse({ python: { kind: "local" }, search: { kind: "local", corpus: "c.jsonl" } });
    expect(parsed.python).toMatchObject({ timeoutS: 10, memoryMb: 512, maxProcesses: 64, outputBytes: 16_384 });
    expect(parsed.search).toMatchObject({ topK: 3, maxTokens: 500 });
  });

  it("builds the local tools, self-tests the sandbox, and serves calls by tag name", async () => {
    const tools = await buildTools(
      { python: { kind: "local", timeoutS: 5, slots: 1, uidBase: 61_200 }, search: { kind: "local", corpus: searchR1Corpus, cacheDir, topK: 1 } },
      { countTokens: (text) => text.length },
    );
    expect(tools.names).toEqual(["python", "search"]);
    const python = tools.get("python");
    expect(python).toBeInstanceOf(LocalPythonTool);
    expect((python as LocalPythonTool).limits.timeoutS).toBe(5);
    expect(await python!.call("print(2 ** 10)")).toMatchObject({ ok: true, observation: "1024" });
    expect(tools.get("search")).toBeInstanceOf(LocalSearchTool);
    expect((await tools.get("search")!.call("Evan Morris")).observation).toMatch(/^Doc 1\(Title: "Evan Morris"\)/);
    expect(tools.get("browser")).toBeUndefined();
    await tools.close();
  });

  it("builds the remote clients without contacting their servers", async () => {
    const tools = await buildTools({
      python: { kind: "sandbox-fusion", url: "http://127.0.0.1:9/", memoryMb: 1024 },
      search: { kind: "retriever", url: "http://127.0.0.1:9/retrieve", topK: 5 },
    });
    const python = tools.get("python");
    expect(python).toBeInstanceOf(SandboxFusionTool);
    expect((python as SandboxFusionTool).limits.memoryMb).toBe(1024);
    expect(tools.get("search")).toBeInstanceOf(RetrieverSearchTool);
  });

  it("fails to build a local search tool over a missing corpus", async () => {
    await expect(buildTools({ search: { kind: "local", corpus: path.join(cacheDir, "missing.jsonl"), cacheDir } })).rejects.toThrow(/ENOENT/);
  });
});
