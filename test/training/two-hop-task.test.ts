// The two-hop variant of the lookup task (cli/demo/two-hop-task.ts), the ground the 3 -> 2 -> 1 -> 0
// ablation stands on: every question needs exactly two searches with the real search tool, the worked
// examples are ordered one-search, two-search, one-search, and the base's pre-training has both kinds.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOOKUP_PRETRAINING_TWO_HOP, lookupPretrainEpisodes } from "../../cli/demo/lookup-model.js";
import { makeTwoHopTask, TWO_HOP_TASK, twoHopDemonstrations, twoHopEpisodes, writeTwoHopFiles } from "../../cli/demo/two-hop-task.js";
import { buildTools, type ToolSet } from "../../worker/tools/index.js";

const searches = (trajectory: string) => trajectory.match(/<search>/g)?.length ?? 0;
/** The observations a trajectory shows, as the rollout loop inserts them. */
const observations = (trajectory: string) => [...trajectory.matchAll(/<information>([^<]*)<\/information>/g)].map((m) => m[1]);

describe("the two-hop task", () => {
  const task = makeTwoHopTask();
  let dir: string;
  let tools: ToolSet;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "icrl-two-hop-"));
    const corpus = path.join(dir, "corpus.jsonl");
    await writeTwoHopFiles(task, { corpus, dataset: path.join(dir, "dataset.jsonl") });
    tools = await buildTools({ search: { kind: "local", corpus, topK: 1, maxTokens: 64, cacheDir: dir } });
  });
  afterAll(async () => {
    await tools?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("is deterministic, with two-hop questions over persons and holders that never share a name", () => {
    expect(makeTwoHopTask()).toEqual(task);
    expect(makeTwoHopTask({ seed: 8 })).not.toEqual(task);
    expect(task.questions).toHaveLength(TWO_HOP_TASK.questions);
    expect(task.questions.every((q) => q.hops === 2 && q.question === `Code of partner of ${q.name}?`)).toBe(true);
    const persons = new Set([...task.examples, ...task.questions].filter((q) => q.hops === 2).map((q) => q.name));
    const holders = new Set([...task.examples, ...task.questions].map((q) => q.holder));
    expect(persons.size + holders.size).toBe(2 * TWO_HOP_TASK.questions + 4);
    for (const p of persons) expect(holders.has(p)).toBe(false);
    expect(() => makeTwoHopTask({ questions: 48 })).toThrow(RangeError);
  });

  it("orders the worked examples one-search, two-search, one-search, so a 1-shot prompt shows only one search", () => {
    const demos = twoHopDemonstrations(task.examples).items;
    expect(demos.map((d) => searches(d.trajectory))).toEqual([1, 2, 1]);
    expect(demos[1].question).toMatch(/^Code of partner of [A-Z]{2}\?$/);
  });

  it("takes exactly the two searches its trajectory shows with the real search tool, which return what it shows", async () => {
    const search = tools.get("search")!;
    for (const item of [...task.examples, ...task.questions]) {
      const demo = twoHopDemonstrations([item]).items[0].trajectory;
      const queries = [...demo.matchAll(/<search> ([A-Z]{2}) <\/search>/g)].map((m) => m[1]);
      expect(queries).toEqual(item.hops === 2 ? [item.name, item.holder] : [item.holder]);
      const found = await Promise.all(queries.map(async (q) => (await search.call(q)).observation.trim()));
      expect(found).toEqual(observations(demo));
      // The first hop finds no code, the last one finds the holder's.
      expect(found.at(-1)).toBe(`Doc 1(Title: ${item.holder}) ${item.code}`);
      if (item.hops === 2) expect(found[0]).toBe(`Doc 1(Title: ${item.name}) partner ${item.holder}`);
    }
  });

  it("pre-trains its base on both one- and two-search episodes, and guesses at the recipe's rates", () => {
    const episodes = twoHopEpisodes(2000, { seed: 3, shots: [0, 1], guessRate: { 0: 0.7, 1: 0.2 }, twoHopShare: 0.5 });
    const searching = episodes.filter((e) => !e.guess);
    const twoHop = searching.filter((e) => e.question.startsWith("Code of partner of "));
    for (const e of searching) expect(searches(e.trajectory)).toBe(e.question.startsWith("Code of partner of ") ? 2 : 1);
    expect(twoHop.length / searching.length).toBeGreaterThan(0.45);
    expect(twoHop.length / searching.length).toBeLessThan(0.55);
    const guessShare = (k: number) => episodes.filter((e) => e.shots === k && e.guess).length / 1000;
    expect(guessShare(0)).toBeGreaterThan(0.65);
    expect(guessShare(0)).toBeLessThan(0.75);
    expect(guessShare(1)).toBeGreaterThan(0.15);
    expect(guessShare(1)).toBeLessThan(0.25);
    for (const e of episodes.filter((x) => x.guess)) expect(e.trajectory).toMatch(/^<answer> \d <\/answer>$/);

    LOOKUP_PRETRAINING_TWO_HOP.phases.forEach((_, i) => {
      const phase = lookupPretrainEpisodes(LOOKUP_PRETRAINING_TWO_HOP, i);
      expect(phase.some((e) => searches(e.trajectory) === 2)).toBe(true);
      expect(phase.some((e) => searches(e.trajectory) === 1)).toBe(true);
    });
    expect(() => lookupPretrainEpisodes({ ...LOOKUP_PRETRAINING_TWO_HOP, zeroShotSearchRate: 0 }, 0)).toThrow(/two-hop/);
  });
});
