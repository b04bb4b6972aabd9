// `icrl model lookup`: its options are checked before anything is built (a bad prior or rate is exit 2
// with the fix, no learner started, no file written); the builds themselves are the lookup-prior
// benchmark's and the reproducibility test's (test/training/lookup-model-reproducible.test.ts).
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ICRL_BIN } from "./helpers.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "icrl-model-lookup-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function icrl(...args: string[]) {
  const r = spawnSync(process.execPath, [ICRL_BIN, ...args], { encoding: "utf8", timeout: 60_000, env: { ...process.env, NO_COLOR: "1" } });
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
