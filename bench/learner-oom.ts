// Fault matrix: the learner killed by the kernel's out-of-memory killer. The learner is moved into a
// memory cgroup of its own (cgroup v2 `memory.max` or v1 `memory.limit_in_bytes`, a child of this
// process's cgroup: needs root, or a delegated cgroup) and asked for a step that needs about 900 MB
// more than the limit leaves. Figures: how long after the request the driver reported the crash, the
// signal, and the kernel's own OOM-kill count for the cgroup. The address-space limit (RLIMIT_AS),
// which needs no privileges, is CI's test (test/learner/memory-limit.test.ts); this is the container
// case, where the kernel kills instead of refusing an allocation; the driver names the OOM kill from
// the cgroup's own counter (worker/learner/oom-kill-watch.ts).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { LearnerDriver, LearnerError } from "../worker/learner/index.js";
import { writeTinyModel } from "../worker/engine/tiny-model.js";
import { round } from "./support/stats.js";

const LIMIT_BYTES = 400 * 2 ** 20;

interface MemoryCgroup {
  dir: string;
  version: 1 | 2;
  oomKills(): number;
}

/** A fresh memory cgroup under this process's own, or a reason why none can be made. */
function makeMemoryCgroup(name: string): MemoryCgroup | string {
  const lines = fs.readFileSync("/proc/self/cgroup", "utf8").trim().split("\n");
  const v1 = lines.map((l) => l.split(":")).find(([, controllers]) => controllers.split(",").includes("memory"));
  const v2 = lines.map((l) => l.split(":")).find(([id]) => id === "0");
  const candidates: { dir: string; version: 1 | 2 }[] = [];
  if (v1) candidates.push({ dir: path.join("/sys/fs/cgroup/memory", v1[2], name), version: 1 });
  if (v2) {
    const root = fs.existsSync("/sys/fs/cgroup/cgroup.controllers") ? "/sys/fs/cgroup" : "/sys/fs/cgroup/unified";
    if (
      fs.existsSync(path.join(root, v2[2], "cgroup.controllers")) &&
      fs.readFileSync(path.join(root, v2[2], "cgroup.controllers"), "utf8").includes("memory")
    )
      candidates.push({ dir: path.join(root, v2[2], name), version: 2 });
  }
  const failures: string[] = [];
  for (const c of candidates) {
    try {
      fs.mkdirSync(c.dir);
      if (c.version === 1) fs.writeFileSync(path.join(c.dir, "memory.limit_in_bytes"), String(LIMIT_BYTES));
      else fs.writeFileSync(path.join(c.dir, "memory.max"), String(LIMIT_BYTES));
      const counter = c.version === 1 ? "memory.oom_control" : "memory.events";
      return {
        ...c,
        oomKills: () => Number(fs.readFileSync(path.join(c.dir, counter), "utf8").match(/oom_kill (\d+)/)?.[1] ?? Number.NaN),
      };
    } catch (error) {
      failures.push(`${c.dir}: ${(error as Error).message}`);
      if (fs.existsSync(c.dir)) fs.rmdirSync(c.dir);
    }
  }
  return `no memory cgroup could be made (${failures.join("; ") || "no memory controller"}); run as root or in a delegated cgroup`;
}

export default async function learnerOom(): Promise<Record<string, number | string>> {
  const cgroup = makeMemoryCgroup(`icrl-bench-oom-${process.pid}`);
  if (typeof cgroup === "string") return { skipped: cgroup };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "icrl-bench-oom-"));
  const learner = LearnerDriver.start({});
  try {
    const model = path.join(dir, "tiny.gguf");
    writeTinyModel({ dim: 64, ff: 128, context: 512, seed: 0, std: 0.08, out: model });
    await learner.init({ model_path: model, lora: { rank: 4 }, optim: { lr: 1e-2, micro_batch_tokens: 1 << 20 }, device: "cpu", threads: 1 });
    const batch = (n: number, len: number) =>
      Array.from({ length: n }, (_, i) => ({
        tokens: Array.from({ length: len }, (_, j) => (i * 31 + j * 7) % 256),
        mask: Array.from({ length: len }, (_, j) => (j >= len / 2 ? 1 : 0)),
        advantage: i % 2 ? 1 : -1,
      }));
    await learner.step(batch(2, 64));
    fs.writeFileSync(path.join(cgroup.dir, "cgroup.procs"), String(learner.pid));
    const killsBefore = cgroup.oomKills();
    const started = performance.now();
    const error = await learner.step(batch(64, 500)).then(
      () => null,
      (e: unknown) => e,
    );
    const detectedS = (performance.now() - started) / 1000;
    const exited = await learner.exited;
    if (!(error instanceof LearnerError))
      throw new Error(`expected the learner to be killed, got ${error === null ? "a finished step" : String(error)}`);
    return {
      cgroup: `v${cgroup.version} ${cgroup.dir}`,
      limit_mib: LIMIT_BYTES / 2 ** 20,
      error_code: error.code,
      signal: String(exited.signal),
      kernel_oom_kills: cgroup.oomKills() - killsBefore,
      reported_after_s: round(detectedS),
      message: error.message.split("; last stderr")[0],
    };
  } finally {
    await learner.shutdown().catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
    for (let i = 0; i < 50 && fs.existsSync(cgroup.dir); i++) {
      try {
        fs.rmdirSync(cgroup.dir); // fails while the killed process is still being reaped
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
}
