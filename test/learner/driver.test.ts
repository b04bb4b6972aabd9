// The driver against the real Python learner: a normal session, then every way the child can fail.
import fs from "node:fs";
import path from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { LearnerDriver, LearnerError } from "../../worker/learner/driver.js";
import { seededTokens, tempDir, writePythonTinyModel } from "./helpers.js";

let dir: string;
let modelPath: string;

beforeAll(() => {
  dir = tempDir("icrl-learner-driver-");
  modelPath = writePythonTinyModel(path.join(dir, "tiny.gguf"));
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

async function rejection(promise: Promise<unknown>): Promise<LearnerError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(LearnerError);
    return error as LearnerError;
  }
  throw new Error("expected a rejection");
}

function batch() {
  const tokens = seededTokens(24, 1);
  return [
    { tokens, mask: tokens.map((_, i) => (i >= 12 ? 1 : 0)), advantage: 1 },
    { tokens: seededTokens(20, 2), mask: [...Array(10).fill(0), ...Array(10).fill(1)], advantage: -1 },
  ];
}

describe("LearnerDriver", () => {
  it("runs a session and keeps serving after a rejected request", async () => {
    const lines: string[] = [];
    const logger = pino({ level: "debug" }, { write: (line: string) => void lines.push(line) });
    const learner = LearnerDriver.start({ logger });
    try {
      const info = await learner.init({ model_path: modelPath, lora: { rank: 4 }, optim: { lr: 1e-2 }, device: "cpu", threads: 1 });
      expect(info).toMatchObject({ arch: "llama", device: "cpu", vocab_size: 259 });
      expect(info.trainable_params).toBeGreaterThan(0);

      const seq = seededTokens(24, 1);
      const [before] = await learner.logprobs({ sequences: [seq] });
      expect(before).toHaveLength(23);
      const metrics = await learner.step(batch());
      expect(metrics).toMatchObject({ step: 1, tokens: 22, updates: 1, kl: 0 });
      const [after] = await learner.logprobs({ sequences: [seq] });
      const trainedGain = after.slice(11).reduce((s, x) => s + x, 0) - before.slice(11).reduce((s, x) => s + x, 0);
      expect(trainedGain).toBeGreaterThan(0); // the positively rewarded completion became more likely

      const bad = await rejection(learner.step([{ tokens: [1, 2], mask: [1, 1], advantage: 1 }]));
      expect(bad.code).toBe("bad_request");
      expect(bad.details.remote).toBe(true);
      expect(learner.alive).toBe(true);

      const exported = await learner.exportAdapter(path.join(dir, "adapter.gguf"));
      expect(exported.bytes).toBe(fs.statSync(exported.path).size);
      expect(exported.sha256).toMatch(/^[0-9a-f]{64}$/);
      const saved = await learner.saveState(path.join(dir, "state.pt"));
      expect(saved.step).toBe(1);
      await learner.step(batch());
      expect((await learner.loadState(saved.path)).step).toBe(1);
      expect(await learner.reset({ reference: true })).toEqual({ optimizer: false, reference: true });
    } finally {
      await learner.shutdown();
    }
    expect((await learner.exited).code).toBe(0);
    expect((await rejection(learner.request("ping", {}))).code).toBe("closed");
    // The learner's stderr logs arrive through pino with their level and fields.
    const records = lines.map((l) => JSON.parse(l));
    expect(records.some((r) => r.msg === "learner initialised" && r.arch === "llama" && r.source === "learner")).toBe(true);
  });

  it("detects a crash and rejects pending and later requests", async () => {
    const learner = LearnerDriver.start({ debug: true });
    const pending = learner.request("ping", {});
    const crash = learner.request("_debug", { action: "exit", code: 7 });
    await expect(pending).resolves.toEqual({ pong: true });
    const error = await rejection(crash);
    expect(error.code).toBe("crashed");
    expect(error.details.exitCode).toBe(7);
    expect(error.message).toContain("exit code 7");
    expect((await rejection(learner.request("ping", {}))).code).toBe("crashed");
    expect(learner.alive).toBe(false);
  });

  it("detects a hang with the request timeout and kills the process", async () => {
    const hang = path.join(dir, "hang.sh");
    fs.writeFileSync(hang, "#!/bin/sh\nexec sleep 600\n", { mode: 0o755 });
    vi.stubEnv("ICRL_PYTHON", hang);
    try {
      const learner = LearnerDriver.start({ requestTimeoutMs: 400 });
      expect(learner.python).toBe(hang);
      const started = Date.now();
      const error = await rejection(learner.request("ping", {}));
      expect(error.code).toBe("timeout");
      expect(Date.now() - started).toBeLessThan(5_000);
      expect((await learner.exited).signal).toBe("SIGKILL");
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it("treats a non-JSON stdout line as a protocol error", async () => {
    const learner = LearnerDriver.start({ debug: true });
    const error = await rejection(learner.request("_debug", { action: "garbage" }));
    expect(error.code).toBe("protocol");
    expect(error.message).toContain("this is not json");
    await learner.exited;
  });

  it("keeps stray prints out of the protocol and reports a missing interpreter", async () => {
    const learner = LearnerDriver.start({ debug: true });
    await expect(learner.request("_debug", { action: "stdout_print" })).resolves.toEqual({ printed: true });
    await learner.shutdown();

    const missing = LearnerDriver.start({ python: path.join(dir, "no-such-python") });
    expect((await rejection(missing.request("ping", {}))).code).toBe("spawn_failed");
    await missing.shutdown(); // settles even though the process never started
    expect(missing.alive).toBe(false);
  });
});
