// `icrl doctor` and the preflight of `icrl worker` / `icrl demo`, as real processes: a python without
// torch is a venv made without system site packages, so the system's torch is really out of reach.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXIT } from "../../cli/support/exit-codes.js";
import { runCli } from "./helpers.js";

const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1", FORCE_COLOR: "" };
delete env.ICRL_PYTHON;
let dir: string;
let noTorch: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "icrl-doctor-"));
  execFileSync("/usr/bin/python3", ["-m", "venv", "--without-pip", path.join(dir, "venv")]);
  noTorch = path.join(dir, "venv", "bin", "python");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("icrl doctor", () => {
  it("passes on this machine and lists torch's version and threads", async () => {
    const r = await runCli(["doctor", "--json", "--data-dir", dir], env);
    expect(r.code, r.stderr).toBe(EXIT.OK);
    const results = JSON.parse(r.stdout) as { name: string; status: string; message: string }[];
    expect(results.map((c) => c.name)).toEqual(["node", "python", "torch", "openblas", "bubblewrap", "gpu", "disk"]);
    expect(results.find((c) => c.name === "torch")?.message).toMatch(/^torch \d+\.\d+.*\d+ threads?/);
    expect(results.every((c) => c.status !== "fail")).toBe(true);
  });

  it("reports torch missing with the install command and exit code 9", async () => {
    const r = await runCli(["doctor", "--data-dir", dir], { ...env, ICRL_PYTHON: noTorch });
    expect(r.code).toBe(EXIT.MISSING_REQUIREMENT);
    expect(r.stdout).toMatch(/FAIL\s+torch\s+torch is missing for .*No module named 'torch'/);
    expect(r.stdout).toContain("fix: install torch for");
  });
});

describe("preflight", () => {
  it("icrl worker --python without torch exits 9 with one line, before connecting", async () => {
    // Port 1 refuses connections: reaching the server would be a different error.
    const r = await runCli(["worker", "--server", "http://127.0.0.1:1", "--token", "x", "--python", noTorch, "--data-dir", dir], env);
    expect(r.code).toBe(EXIT.MISSING_REQUIREMENT);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^icrl worker: torch is missing for .*fix: /);
    expect(r.stdout).toBe("");
  });

  it("icrl demo with ICRL_PYTHON without torch exits 9 with one line and creates nothing", async () => {
    const dataDir = path.join(dir, "demo");
    const r = await runCli(["demo", "--data-dir", dataDir, "--port", "0"], { ...env, ICRL_PYTHON: noTorch });
    expect(r.code).toBe(EXIT.MISSING_REQUIREMENT);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^icrl demo: torch is missing for .*fix: /);
    expect(r.stderr).not.toMatch(/LearnerError|at .*\.ts:\d+/);
    expect(r.stdout).toBe("");
    expect(() => execFileSync("ls", [dataDir], { stdio: "ignore" })).toThrow();
  });
});
