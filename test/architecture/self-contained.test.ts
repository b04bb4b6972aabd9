// Nothing in the repository may refer to a file outside it: a fresh clone must build, test and
// benchmark with what it holds (data the tests and benches read is copied in, with its provenance).
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "../..");
// Spelled in pieces so this file does not match itself.
const OUTSIDE = [["..", "/shared"].join(""), ['"..", ', '"shared"'].join(""), ["'..', ", "'shared'"].join(""), ["/wo", "rk/"].join("")];

describe("the repository is self-contained", () => {
  it("no tracked text file names a path outside the repository", () => {
    const files = execFileSync("git", ["ls-files", "-z"], { cwd: ROOT, encoding: "utf8" }).split("\0").filter(Boolean);
    expect(files.length).toBeGreaterThan(100);
    const offenders: string[] = [];
    for (const file of files) {
      let text: string;
      try {
        text = readFileSync(path.join(ROOT, file), "utf8");
      } catch {
        continue; // listed but absent in this checkout (e.g. deleted and not yet committed)
      }
      if (text.includes("\0")) continue;
      for (const needle of OUTSIDE) if (text.includes(needle)) offenders.push(`${file}: ${needle}`);
    }
    expect(offenders).toEqual([]);
  });
});
