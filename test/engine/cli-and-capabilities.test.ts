// `icrl model tiny|validate` through the real binary, and the capabilities report for worker registration.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { detectCapabilities } from "../../worker/engine/capabilities.js";
import { validateModelFile } from "../../worker/engine/gguf/validate.js";
import { makeTempDir, writeRandomLora } from "./helpers.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const tmp = makeTempDir("cli");
afterAll(() => tmp.cleanup());

function icrl(...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(root, "bin", "icrl.js"), ...args], { encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("icrl model", () => {
  it("writes a tiny model with the requested shape, and validates models and adapters", () => {
    const out = path.join(tmp.dir, "m.gguf");
    const r = icrl(
      "model",
      "tiny",
      "--out",
      out,
      "--layers",
      "3",
      "--dim",
      "64",
      "--heads",
      "4",
      "--kv-heads",
      "1",
      "--ff",
      "96",
      "--context",
      "512",
      "--seed",
      "5",
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info).toMatchObject({ path: out, vocabSize: 259, bytes: fs.statSync(out).size });
    expect(validateModelFile(out)).toMatchObject({
      blockCount: 3,
      embeddingLength: 64,
      headCount: 4,
      headCountKv: 1,
      feedForwardLength: 96,
      contextLength: 512,
    });

    const v = icrl("model", "validate", out);
    expect(v.code).toBe(0);
    expect(JSON.parse(v.stdout)).toMatchObject({ kind: "model", architecture: "llama", blockCount: 3, hasChatTemplate: true });

    const lora = path.join(tmp.dir, "lora.gguf");
    writeRandomLora({ base: out, out: lora, rank: 2, alpha: 4, seed: 1, targets: ["attn_q", "ffn_down"] });
    const a = icrl("model", "validate", lora, "--base", out);
    expect(a.code).toBe(0);
    expect(JSON.parse(a.stdout)).toMatchObject({ kind: "adapter", alpha: 4, ranks: [2], tensors: 6 });
  });

  it("exits 2 with a message for bad options and invalid files", () => {
    const bad = icrl("model", "tiny", "--out", path.join(tmp.dir, "x.gguf"), "--dim", "100", "--heads", "3");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("divisible");
    expect(fs.existsSync(path.join(tmp.dir, "x.gguf"))).toBe(false);

    const junk = path.join(tmp.dir, "junk.gguf");
    fs.writeFileSync(junk, "GGUF but not really");
    const v = icrl("model", "validate", junk);
    expect(v.code).toBe(2);
    expect(v.stderr).toContain(`invalid model file ${junk}`);
  });
});

describe("capabilities", () => {
  it("reports the backend that loads here, memory and cores", async () => {
    const caps = await detectCapabilities();
    expect(["cpu", "cuda", "vulkan", "metal"]).toContain(caps.backend);
    expect(caps.cpuCores).toBe(os.availableParallelism());
    expect(caps.totalMemoryBytes).toBe(os.totalmem());
    expect(caps.llamaCppRelease).toMatch(/^v?\d/);
    if (caps.backend === "cpu") {
      expect(caps.vramBytes).toBe(0);
      expect(caps.gpuNames).toEqual([]);
    } else {
      expect(caps.gpuNames.length).toBeGreaterThan(0);
      expect(caps.vramBytes).toBeGreaterThan(0);
    }
  });
});
