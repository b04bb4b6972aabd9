// `icrl score` as a user runs it: a child process on a temporary JSONL file or standard input.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const workDir = mkdtempSync(path.join(tmpdir(), "icrl-score-"));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

function icrl(args: string[], input?: string) {
  const result = spawnSync(process.execPath, ["bin/icrl.js", ...args], {
    cwd: projectRoot,
    input,
    encoding: "utf8",
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function writeJsonl(name: string, lines: string[]): string {
  const file = path.join(workDir, name);
  writeFileSync(file, lines.join("\n") + "\n");
  return file;
}

const outputLines = (stdout: string) =>
  stdout
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe("icrl score", () => {
  it("adds a score to each line of a file, keeping the other fields", () => {
    const file = writeJsonl("qa.jsonl", [
      JSON.stringify({ id: "a", prediction: "The Eiffel Tower!", golds: ["eiffel tower"] }),
      "",
      JSON.stringify({ id: "b", prediction: "Barack Obama", golds: ["Obama", "President Barack Obama"] }),
      // U+2028 and U+0085 inside a string are not line breaks
      JSON.stringify({ id: "c", prediction: "x\u2028y\u0085", golds: ["z"] }).replace("\\u2028", "\u2028"),
    ]);
    const em = icrl(["score", "--metric", "em", file]);
    expect(em.code).toBe(0);
    // The mean goes to stderr, so stdout stays one JSON object per line.
    expect(em.stderr).toBe("mean em: 0.3333 over 3 records\n");
    const rows = outputLines(em.stdout);
    expect(rows.map((row) => [row.id, row.score])).toEqual([
      ["a", 1],
      ["b", 0],
      ["c", 0],
    ]);
    expect(rows[0]).toEqual({ id: "a", prediction: "The Eiffel Tower!", golds: ["eiffel tower"], score: 1 });

    const f1 = icrl(["score", "-m", "f1", file]);
    expect(f1.code).toBe(0);
    expect(outputLines(f1.stdout)[1].score).toBeCloseTo(0.8, 12);
    expect(f1.stderr).toBe("mean f1: 0.6000 over 3 records\n");
  });

  it("reads standard input with '-' for the math metrics", () => {
    const input = [
      JSON.stringify({ prediction: "so \\boxed{\\frac{1}{2}}", golds: ["0.5"] }),
      JSON.stringify({ prediction: "\\boxed{3}", golds: ["4"] }),
    ].join("\n");
    const math = icrl(["score", "--metric", "math_equiv", "-"], input);
    expect(math.code).toBe(0);
    expect(outputLines(math.stdout).map((row) => row.score)).toEqual([1, 0]);
    expect(math.stderr).toBe("mean math_equiv: 0.5000 over 2 records\n");
    const empty = icrl(["score", "--metric", "em", "-"], "\n");
    expect(empty).toMatchObject({ code: 0, stdout: "", stderr: "mean em: no records scored\n" });

    const gsm = icrl(["score", "--metric", "gsm8k", "-"], JSON.stringify({ prediction: "#### 1,234", golds: ["a\n#### 1234"] }));
    expect(gsm.code).toBe(0);
    expect(outputLines(gsm.stdout)[0].score).toBe(1);
  });

  it("stops at the first bad line with its number and exit code 2", () => {
    const file = writeJsonl("bad.jsonl", [
      JSON.stringify({ prediction: "a", golds: ["a"] }),
      JSON.stringify({ prediction: "b", golds: "b" }),
      JSON.stringify({ prediction: "c", golds: ["c"] }),
    ]);
    const result = icrl(["score", "--metric", "em", file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/line 2: "golds" must be a list of strings/);
    expect(outputLines(result.stdout)).toHaveLength(1);

    const notJson = icrl(["score", "--metric", "em", "-"], '{"prediction": "a", "golds": ["a"]}\n{oops\n');
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toMatch(/line 2: not valid JSON/);
  });

  it("exits 2 with the list of metrics for an unknown or missing metric", () => {
    const unknown = icrl(["score", "--metric", "bleu", "-"], "");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown metric "bleu"');
    expect(unknown.stderr).toContain("em, f1, subem, math_equiv, gsm8k");
    const missing = icrl(["score", "-"], "");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("em, f1, subem, math_equiv, gsm8k");
  });

  it("exits 2 for a missing file or argument and documents itself in --help", () => {
    expect(icrl(["score", "--metric", "em", path.join(workDir, "nope.jsonl")]).code).toBe(2);
    expect(icrl(["score", "--metric", "em"]).code).toBe(2);
    const help = icrl(["score", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--metric");
    expect(help.stdout).toContain("math_equiv");
  });
});
