// `icrl study create --set path=value`: one study file run on several bases (the replication study
// runs the same arms on two base models). The settings go under the base config, so every arm gets
// them and an arm's own patch still wins; a malformed setting or one that breaks the config is refused
// before anything is sent.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { stringify } from "yaml";
import { planStudy } from "../../contracts/index.js";
import { readStudyDefinition } from "../../cli/support/study-file.js";

let dir: string;
let file: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "icrl-study-set-"));
  const config = { model: { path: "/models/a.gguf" }, dataset: { id: "6f1c2b8e-1d2a-4c3b-9e8f-0a1b2c3d4e5f" }, grpo: { groupSize: 4, lr: 0.001 } };
  await writeFile(path.join(dir, "base.yaml"), stringify({ experiment: "e", name: "base", config }));
  file = path.join(dir, "study.yaml");
  await writeFile(
    file,
    stringify({ experiment: "e", name: "s", base: "base.yaml", arms: { plain: {}, hot: { grpo: { lr: 0.01 } } }, seeds: [1, 2] }),
  );
});

afterAll(() => rm(dir, { recursive: true, force: true }));

it("puts the settings under the base config: every arm gets them, an arm's patch still wins", async () => {
  const { definition } = await readStudyDefinition(file, { set: ["model.path=/models/b.gguf", "grpo.lr=0.002", "grpo.groupSize=8"] });
  expect(definition.baseConfig.model).toEqual({ path: "/models/b.gguf" });
  expect(definition.baseConfig.grpo).toEqual({ groupSize: 8, lr: 0.002 });
  const plan = planStudy({ baseConfig: definition.baseConfig, arms: definition.arms, seeds: definition.seeds });
  if (!plan.ok) throw new Error(JSON.stringify(plan.errors));
  const lrByArm = Object.fromEntries(plan.runs.map((r) => [r.arm, r.config.grpo.lr]));
  expect(lrByArm).toEqual({ plain: 0.002, hot: 0.01 });
  expect(plan.runs.every((r) => r.config.model.path === "/models/b.gguf")).toBe(true);
});

it("refuses a malformed setting, and one that breaks the config, with the path and the fix", async () => {
  await expect(readStudyDefinition(file, { set: ["grpo.lr"] })).rejects.toThrow(/--set needs path=value/);
  const broken = readStudyDefinition(file, { set: ["grpo.groupSize=1"] });
  await expect(broken).rejects.toThrow(/is not a valid study/);
  await expect(broken).rejects.toMatchObject({ details: expect.arrayContaining([expect.stringContaining("config.grpo.groupSize")]) });
});

it("--arms and --seeds take a subset of the file's arms and other seeds; an unknown arm or a dropped baseline is refused", async () => {
  const { definition } = await readStudyDefinition(file, { arms: ["plain"], seeds: [7, 8, 9] });
  expect(definition.arms.map((a) => a.name)).toEqual(["plain"]);
  expect(definition.seeds).toEqual([7, 8, 9]);
  const unknown = readStudyDefinition(file, { arms: ["plain", "cold"] });
  await expect(unknown).rejects.toMatchObject({
    details: expect.arrayContaining([expect.stringContaining('--arms names "cold", which the file does not have (its arms: plain, hot)')]),
  });
  await writeFile(
    path.join(dir, "with-baseline.yaml"),
    stringify({ experiment: "e", name: "s", base: "base.yaml", baseline: "hot", arms: { plain: {}, hot: { grpo: { lr: 0.01 } } }, seeds: [1] }),
  );
  await expect(readStudyDefinition(path.join(dir, "with-baseline.yaml"), { arms: ["plain"] })).rejects.toMatchObject({
    details: expect.arrayContaining([expect.stringContaining('leaves out the baseline arm "hot"')]),
  });
  const kept = await readStudyDefinition(path.join(dir, "with-baseline.yaml"), { arms: ["hot"] });
  expect(kept.definition.arms.map((a) => a.name)).toEqual(["hot"]);
});
