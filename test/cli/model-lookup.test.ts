// `icrl model lookup` and `icrl model build --pretrain lookup`: options are checked before anything is
// built (a bad prior, rate, tokenizer, shape or type is exit 2 with the fix, no learner started, no file
// written). One build runs here, the lookup base with Qwen3's vocabulary from `model build`; the byte
// builds are the lookup-prior benchmark's and the reproducibility test's
// (test/training/lookup-model-reproducible.test.ts), and the Qwen3 base is what
// test/training/real-tokenizer-learning.test.ts trains.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ICRL_BIN } from "./helpers.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "icrl-model-lookup-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function icrl(...args: string[]) {
  return icrlWithin(60_000, ...args);
}

function icrlWithin(timeout: number, ...args: string[]) {
  const r = spawnSync(process.execPath, [ICRL_BIN, ...args], { encoding: "utf8", timeout, env: { ...process.env, NO_COLOR: "1" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("icrl model lookup", () => {
  it("exits 2 with the accepted values for a bad --prior or --zero-shot-search-rate, before building anything", () => {
    const out = path.join(dir, "m.gguf");
    const prior = icrl("model", "lookup", "--prior", "shy", "-o", out);
    expect(prior.code).toBe(2);
    expect(prior.stderr).toContain("--prior must be one of demo, never-searching, two-hop");
    const twoHop = icrl("model", "lookup", "--prior", "two-hop", "--zero-shot-search-rate", "0.1", "-o", out);
    expect(twoHop.code).toBe(2);
    expect(twoHop.stderr).toContain("--zero-shot-search-rate applies to the one-hop priors");
    for (const rate of ["1.5", "-0.1", "abc", ""]) {
      const r = icrl("model", "lookup", "--zero-shot-search-rate", rate, "-o", out);
      expect(r.code, rate).toBe(2);
      expect(r.stderr).toContain("--zero-shot-search-rate must be a number from 0 to 1");
    }
    const seed = icrl("model", "lookup", "--seed", "-3", "-o", out);
    expect(seed.code).toBe(2);
    const tokenizer = icrl("model", "lookup", "--tokenizer", "gpt2", "-o", out);
    expect(tokenizer.code).toBe(2);
    expect(tokenizer.stderr).toContain("--tokenizer must be one of qwen3, qwen2.5, llama3, byte");
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it("--help names the priors and the exit codes", () => {
    const help = icrl("model", "lookup", "--help");
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--prior <name>");
    expect(help.stdout).toMatch(/demo, never-searching,\s+two-hop/);
    expect(help.stdout).toContain("--zero-shot-search-rate <share>");
    expect(help.stdout).toMatch(/Exit codes: 0 ok, 1 the build failed, 2 bad options, 9 torch is missing/);
  });
});

describe("icrl model build --pretrain lookup", () => {
  it("exits 2 with the fix for a shape other than tiny, a type other than f32 or an unknown task, before building anything", () => {
    const out = path.join(dir, "p.gguf");
    const shape = icrl("model", "build", "--pretrain", "lookup", "--shape", "qwen2.5-0.5b", "-o", out);
    expect(shape.code).toBe(2);
    expect(shape.stderr).toContain("--pretrain lookup builds the tiny shape only; drop --shape qwen2.5-0.5b");
    const type = icrl("model", "build", "--pretrain", "lookup", "--type", "q8_0", "-o", out);
    expect(type.code).toBe(2);
    expect(type.stderr).toContain("--pretrain writes F32 weights; drop --type q8_0");
    const task = icrl("model", "build", "--pretrain", "math", "-o", out);
    expect(task.code).toBe(2);
    expect(task.stderr).toContain("--pretrain must be one of lookup");
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it("writes the lookup task's pre-trained tiny base with Qwen3's vocabulary and chat template", { timeout: 600_000 }, () => {
    const out = path.join(dir, "lookup-qwen3.gguf");
    const built = icrlWithin(540_000, "model", "build", "--tokenizer", "qwen3", "--pretrain", "lookup", "-o", out);
    expect(built.code, built.stderr).toBe(0);
    // The demo's recipe: 120 + 40 steps of pre-training.
    expect(JSON.parse(built.stdout)).toMatchObject({ path: out, prior: "demo", tokenizer: "qwen3", seed: 1, steps: [120, 40] });
    expect(fs.readdirSync(dir)).toEqual(["lookup-qwen3.gguf"]);
    const checked = icrl("model", "validate", out);
    expect(checked.code, checked.stderr).toBe(0);
    expect(JSON.parse(checked.stdout)).toMatchObject({ architecture: "qwen3", vocabSize: 151_669, hasChatTemplate: true, blockCount: 2 });
  });
});
