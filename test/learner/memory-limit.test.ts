// Fault matrix: the learner under a real memory limit. The kernel's address-space limit (RLIMIT_AS,
// set on the running child with prlimit(1), no root needed) makes torch's allocator fail the way a
// machine or container without memory does: the step is refused with `out_of_memory` and what to
// lower, nothing of it is applied, and the same learner keeps serving once the batch fits again.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LearnerDriver, LearnerError } from "../../worker/learner/driver.js";
import { seededTokens, tempDir, writeLearnerTinyModel } from "./helpers.js";

let dir: string;
let modelPath: string;

beforeAll(() => {
  dir = tempDir("icrl-learner-memory-");
  modelPath = writeLearnerTinyModel(path.join(dir, "tiny.gguf"));
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function batch(sequences: number, length: number) {
  return Array.from({ length: sequences }, (_, i) => {
    const tokens = seededTokens(length, i + 1);
    return { tokens, mask: tokens.map((_, j) => (j >= length / 2 ? 1 : 0)), advantage: i % 2 ? 1 : -1 };
  });
}

function statusKb(pid: number, field: "VmSize" | "VmRSS"): number {
  const match = fs.readFileSync(`/proc/${pid}/status`, "utf8").match(new RegExp(`${field}:\\s+(\\d+) kB`));
  if (!match) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]);
}

describe("the learner under a memory limit", () => {
  it("refuses a step that does not fit as out_of_memory, applies none of it, and keeps serving", async () => {
    const learner = LearnerDriver.start({});
    try {
      // One micro-batch for the whole step, so its memory grows with the batch (64 x 500 tokens
      // needs about 900 MB more than a small step here; the limit leaves 128 MB).
      await learner.init({ model_path: modelPath, lora: { rank: 4 }, optim: { lr: 1e-2, micro_batch_tokens: 1 << 20 }, device: "cpu", threads: 1 });
      expect(await learner.step(batch(2, 64))).toMatchObject({ step: 1 });
      const pid = learner.pid!;
      const limitBytes = (statusKb(pid, "VmSize") + 128 * 1024) * 1024;
      execFileSync("prlimit", ["--pid", String(pid), `--as=${limitBytes}`]);
      expect(execFileSync("prlimit", ["--pid", String(pid), "--as", "--raw", "--noheadings", "--output=SOFT"], { encoding: "utf8" }).trim()).toBe(
        String(limitBytes),
      );

      const probe = seededTokens(64, 99);
      const [before] = await learner.logprobs({ sequences: [probe] });
      let error: unknown = null;
      await learner.step(batch(64, 500)).catch((e) => (error = e));
      expect(error).toBeInstanceOf(LearnerError);
      const refused = error as LearnerError;
      expect(refused.code).toBe("out_of_memory");
      expect(refused.details.remote).toBe(true);
      expect(refused.message).toMatch(/the learner ran out of memory in step \(.*can't allocate memory.*\): lower grpo\.groupSize/);

      // Nothing of the refused step was applied: same weights, same step count.
      expect(learner.alive).toBe(true);
      const [after] = await learner.logprobs({ sequences: [probe] });
      expect(after).toEqual(before);
      expect(await learner.step(batch(2, 64))).toMatchObject({ step: 2 });
      console.log(
        "learner memory limit",
        JSON.stringify({ limitMiB: Math.round(limitBytes / 2 ** 20), rssMiBAfter: Math.round(statusKb(pid, "VmRSS") / 1024) }),
      );
    } finally {
      await learner.shutdown();
    }
    expect((await learner.exited).code).toBe(0);
  });
});
