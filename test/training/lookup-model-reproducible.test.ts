// The lookup model's builder promises that the same options give the same bytes (cli/demo/lookup-model.ts):
// the learning test and the demo stand on that model, and a base that changes between runs turns
// their thresholds into draws. Each build gets its own learner process, as two separate runs would:
// a difference that only shows between processes (Python salts its string hashes per process, and a
// set of tensor names once decided the order of the gradient-norm sum) is exactly what must not exist.
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, expect, it } from "vitest";
import { buildLookupModel, LOOKUP_PRETRAINING, LOOKUP_PRETRAINING_NEVER_SEARCHING } from "../../cli/demo/lookup-model.js";
import { LearnerDriver } from "../../worker/learner/driver.js";

let dir: string;
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function build(
  out: string,
  hashSeed: string,
  recipe: typeof LOOKUP_PRETRAINING | typeof LOOKUP_PRETRAINING_NEVER_SEARCHING = LOOKUP_PRETRAINING,
) {
  const learner = LearnerDriver.start({ env: { PYTHONHASHSEED: hashSeed } });
  try {
    // A short pre-training (both phases, 8 steps in all): enough updates for an order-dependent sum to show.
    const results = await buildLookupModel({ ...recipe, out, learner, steps: 8, episodesPerPhase: 64 });
    return {
      results,
      sha: createHash("sha256")
        .update(await readFile(out))
        .digest("hex"),
    };
  } finally {
    await learner.shutdown();
  }
}

const losses = (rs: Awaited<ReturnType<typeof build>>["results"]) => rs.map((r) => [r.loss_first, r.loss_last]);
let demoSha: string | undefined;

it("the lookup model builder gives the same bytes for the same options, in any learner process", { timeout: 300_000 }, async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "icrl-lookup-repro-"));
  const a = await build(path.join(dir, "a.gguf"), "1");
  const b = await build(path.join(dir, "b.gguf"), "2");
  expect(a.results.map((r) => r.steps)).toEqual([6, 2]);
  expect(losses(b.results)).toEqual(losses(a.results));
  expect(b.sha).toBe(a.sha);
  demoSha = a.sha;
});

it("so does the never-searching recipe (zeroShotSearchRate 0), and its prior gives other bytes than the demo's", { timeout: 300_000 }, async () => {
  dir ??= await mkdtemp(path.join(os.tmpdir(), "icrl-lookup-repro-"));
  const a = await build(path.join(dir, "ns-a.gguf"), "1", LOOKUP_PRETRAINING_NEVER_SEARCHING);
  const b = await build(path.join(dir, "ns-b.gguf"), "2", LOOKUP_PRETRAINING_NEVER_SEARCHING);
  expect(a.results.map((r) => r.steps)).toEqual([7, 1]);
  expect(losses(b.results)).toEqual(losses(a.results));
  expect(b.sha).toBe(a.sha);
  if (demoSha) expect(a.sha).not.toBe(demoSha);
});
