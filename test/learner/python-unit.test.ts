// The learner's Python unit tests (worker/learner/tests), run through vitest so `npm test` covers them.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { LEARNER_DIR } from "../../worker/learner/driver.js";

describe("learner python unit tests", () => {
  it("pass under the system python with torch", () => {
    const python = process.env.ICRL_PYTHON ?? "/usr/bin/python3";
    const run = spawnSync(python, ["-m", "unittest", "discover", "-s", "tests", "-t", "."], {
      cwd: LEARNER_DIR,
      encoding: "utf8",
      timeout: 230_000,
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" },
    });
    const report = `${run.stdout}\n${run.stderr}`.trim();
    expect(run.error, report).toBeUndefined();
    expect(run.status, report.slice(-4000)).toBe(0);
    // unittest prints "Ran N tests": every test method written must have run, so a test that stops
    // being discovered (a renamed file, an import error swallowed) fails here instead of vanishing.
    const testsDir = path.join(LEARNER_DIR, "tests");
    const written = readdirSync(testsDir)
      .filter((f) => /^test.*\.py$/.test(f))
      .reduce((n, f) => n + (readFileSync(path.join(testsDir, f), "utf8").match(/^\s*def test_\w+\(/gm)?.length ?? 0), 0);
    const ran = /Ran (\d+) tests?/.exec(report);
    expect(written).toBeGreaterThan(0);
    expect(Number(ran?.[1] ?? 0), report.slice(-2000)).toBe(written);
  }, 240_000); // ~10 s on an idle 2-core machine; generous because CI machines are shared
});
