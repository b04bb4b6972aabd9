// The driver against the real Python learner: a normal session, then every way the child can fail.
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { LEARNER_DIR, LearnerDriver, LearnerError } from "../../worker/learner/driver.js";
import { seededTokens, tempDir, writeLearnerTinyModel } from "./helpers.js";

let dir: string;
let modelPath: string;

beforeAll(() => {
  dir = tempDir("icrl-learner-driver-");
  modelPath = writeLearnerTinyModel(path.join(dir, "tiny.gguf"));
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
      // A stage warm-up's lr scale reaches the learner as lr_scale for that step only.
      expect((await learner.step(batch(), { lrScale: 0.5 })).lr).toBeCloseTo(5e-3, 12);
      expect((await learner.step(batch())).lr).toBeCloseTo(1e-2, 12);
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

  it("notices a learner stopped (SIGSTOP) while a request waits, logs it, and fails the request as stalled", async () => {
    const lines: string[] = [];
    const logger = pino({ level: "info" }, { write: (line: string) => void lines.push(line) });
    // The request timeout is far away: only the stall watch can end this request in time.
    const learner = LearnerDriver.start({ logger, stallMs: 1000, requestTimeoutMs: 600_000 });
    expect(await learner.request("ping", {})).toEqual({ pong: true });
    const pid = learner.pid!;
    process.kill(pid, "SIGSTOP");
    const started = Date.now();
    const error = await rejection(learner.request("ping", {}));
    expect(error.code).toBe("stalled");
    expect(error.message).toMatch(/was stopped \(SIGSTOP\?\) for \d+ s while ping waited on it; the process was killed/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(Date.now() - started).toBeLessThan(60_000);
    expect((await learner.exited).signal).toBe("SIGKILL");
    const logged = lines.map((l) => JSON.parse(l) as { level: number; msg: string });
    expect(logged.some((l) => l.level === 40 && l.msg === "learner process is stopped; a request is waiting on it")).toBe(true);
    expect(logged.some((l) => l.level === 50 && /was stopped/.test(l.msg))).toBe(true);
  });

  it("an allocation the machine cannot satisfy is out_of_memory, with what to lower, and the learner keeps serving", async () => {
    const learner = LearnerDriver.start({ debug: true });
    try {
      // A petabyte through torch's own allocator: a real allocation failure, on any machine.
      const error = await rejection(learner.request("_debug", { action: "allocate", bytes: 2 ** 50 }));
      expect(error.code).toBe("out_of_memory");
      expect(error.details.remote).toBe(true);
      expect(error.message).toMatch(
        /the learner ran out of memory in _debug .*: lower grpo.groupSize, grpo.questionsPerStep or the rollout token limits/,
      );
      // The run config's own memory settings are named, as a run file spells them.
      expect(error.message).toContain("learner.logprobChunk lower (e.g. 128), learner.gradientCheckpointing true or learner.dtype bfloat16");
      expect(await learner.request("ping", {})).toEqual({ pong: true });
    } finally {
      await learner.shutdown();
    }
  });

  it("treats a non-JSON stdout line as a protocol error", async () => {
    const learner = LearnerDriver.start({ debug: true });
    const error = await rejection(learner.request("_debug", { action: "garbage" }));
    expect(error.code).toBe("protocol");
    expect(error.message).toContain("this is not json");
    await learner.exited;
  });

  it("runs the learner in its own process group and still kills it when the worker exits", async () => {
    // Own group: a Ctrl-C in the terminal (SIGINT to the foreground group) must not kill it mid-step.
    const learner = LearnerDriver.start({ debug: true });
    await expect(learner.request("ping", {})).resolves.toEqual({ pong: true });
    const pgid = Number(execFileSync("ps", ["-o", "pgid=", "-p", String(learner.pid)], { encoding: "utf8" }).trim());
    expect(pgid).toBe(learner.pid);
    expect(pgid).not.toBe(Number(execFileSync("ps", ["-o", "pgid=", "-p", String(process.pid)], { encoding: "utf8" }).trim()));
    await learner.shutdown();
    expect((await learner.exited).code).toBe(0);

    // A worker that exits without shutting its learner down (process.exit) takes the learner with it,
    // even mid-request (a busy learner would not notice its stdin closing until the request ends).
    const script = path.join(dir, "exit-with-learner.mts");
    fs.writeFileSync(
      script,
      `import { LearnerDriver } from ${JSON.stringify(path.join(LEARNER_DIR, "driver.ts"))};\n` +
        `const learner = LearnerDriver.start({ debug: true });\n` +
        `await learner.request("ping", {});\n` +
        `void learner.request("_debug", { action: "sleep", seconds: 600 }).catch(() => undefined);\n` +
        `await new Promise((r) => setTimeout(r, 300));\n` +
        `console.log(learner.pid);\n` +
        `process.exit(0);\n`,
    );
    const child = spawn(process.execPath, ["--import", "tsx", script], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    expect(await new Promise((resolve) => child.once("exit", resolve))).toBe(0);
    const orphan = Number(out.trim());
    expect(orphan).toBeGreaterThan(0);
    const alive = (pid: number) => {
      try {
        // A killed process not yet reaped by its new parent shows up as a zombie (state Z).
        return !execFileSync("ps", ["-o", "stat=", "-p", String(pid)], { encoding: "utf8" })
          .trim()
          .startsWith("Z");
      } catch {
        return false; // ps exits 1: no such process
      }
    };
    const until = Date.now() + 5_000;
    while (alive(orphan) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(alive(orphan)).toBe(false);
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
