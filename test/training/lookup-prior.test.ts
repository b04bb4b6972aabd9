// The lookup base's zero-shot search prior is a parameter of the builder (zeroShotSearchRate,
// cli/demo/lookup-model.ts), independent of its k-shot habit: checked on the pre-training episodes the
// builder makes, which decide what the base learns (the sampled rates they give are in BENCHMARKS.md,
// "lookup-prior"; building and sampling takes minutes, so it is a benchmark, not a test).
import { describe, expect, it } from "vitest";
import { LOOKUP_PRETRAINING, LOOKUP_PRETRAINING_NEVER_SEARCHING, lookupPretrainEpisodes } from "../../cli/demo/lookup-model.js";
import { lookupEpisodes, type LookupEpisode } from "../../cli/demo/lookup-task.js";

const searching = (episodes: LookupEpisode[], k: (shots: number) => boolean) => episodes.filter((e) => k(e.shots) && !e.guess).length;

describe("zeroShotSearchRate", () => {
  it("sets exactly the share of zero-shot episodes that search, and leaves the k-shot episodes as they were", () => {
    const phase = { shots: [0, 0, 1, 2, 3], guessRate: { 0: 0.7, 1: 0.35, 2: 0.35, 3: 0.35 } };
    const plain = lookupEpisodes(1024, { seed: 5, ...phase, zeroShotSearchRate: 0.5 });
    // Indices 0 and 1 of every 5: 410 zero-shot episodes of 1024.
    expect(plain.filter((e) => e.shots === 0)).toHaveLength(410);
    for (const rate of [0, 0.01, 0.25, 0.5, 1]) {
      const episodes = lookupEpisodes(1024, { seed: 5, ...phase, zeroShotSearchRate: rate });
      expect(searching(episodes, (k) => k === 0)).toBe(Math.floor(410 * rate));
      // Searching episodes show the search and the copied code; guesses answer at once.
      for (const e of episodes) expect(e.trajectory.startsWith("<search>")).toBe(!e.guess);
      // Same questions, and the same k-shot episodes, whatever the zero-shot prior.
      expect(episodes.map((e) => e.question)).toEqual(plain.map((e) => e.question));
      expect(episodes.filter((e) => e.shots > 0)).toEqual(plain.filter((e) => e.shots > 0));
    }
    expect(() => lookupEpisodes(8, { zeroShotSearchRate: 1.5 })).toThrow(RangeError);
    expect(() => lookupEpisodes(8, { zeroShotSearchRate: Number.NaN })).toThrow(RangeError);
  });

  it("the never-searching recipe pre-trains on no zero-shot search at all, and on k-shot searches in every phase", () => {
    const recipe = LOOKUP_PRETRAINING_NEVER_SEARCHING;
    expect(recipe.zeroShotSearchRate).toBe(0);
    for (const seed of [1, 2, 3]) {
      let zeroShot = 0;
      recipe.phases.forEach((_, i) => {
        const episodes = lookupPretrainEpisodes({ ...recipe, seed }, i);
        zeroShot += episodes.filter((e) => e.shots === 0).length;
        expect(searching(episodes, (k) => k === 0)).toBe(0);
        expect(searching(episodes, (k) => k > 0)).toBeGreaterThan(0);
      });
      expect(zeroShot).toBeGreaterThan(300);
    }
  });

  it("unset, the phases' own guess rates decide: today's demo recipe still has searching zero-shot episodes", () => {
    const [copying, habit] = [0, 1].map((i) => lookupPretrainEpisodes(LOOKUP_PRETRAINING, i));
    expect(searching(copying, (k) => k === 0)).toBe(1024);
    // guessRate[0] = 0.7 drawn per episode: about 30% of the 410 zero-shot episodes search.
    const share = searching(habit, (k) => k === 0) / 410;
    expect(share).toBeGreaterThan(0.2);
    expect(share).toBeLessThan(0.4);
  });
});
