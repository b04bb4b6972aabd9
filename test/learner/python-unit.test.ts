// The learner's Python unit tests (worker/learner/tests), run through vitest so `npm test` covers them.
import { spawnSync } from "node:child_process";
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
    // unittest prints "Ran N tests" then "OK": make sure tests were actually found.
    const ran = /Ran (\d+) tests?/.exec(report);
    expect(Number(ran?.[1] ?? 0)).toBeGreaterThanOrEqual(30);
  }, 240_000); // ~10 s on an idle 2-core machine; generous because CI machines are shared
});
