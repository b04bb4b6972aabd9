// deriveSeed gives every (seed, sequence, turn) of a rollout group its own sampling stream. A mix that
// starts from `seed ^ sequence` maps (s, s) to one stream for every s (and (a, b) to (b, a)'s), so
// runs with different seeds would sample the same rollouts; these checks catch that.
import { describe, expect, it } from "vitest";
import { deriveSeed } from "../../worker/engine/llama-sequence.js";

describe("deriveSeed", () => {
  it("gives distinct (seed, sequence) pairs distinct streams", () => {
    const seen = new Map<number, string>();
    for (let seed = 0; seed < 64; seed++) {
      for (let sequence = 0; sequence < 64; sequence++) {
        const value = deriveSeed(seed, sequence, 0);
        expect(seen.get(value), `(${seed}, ${sequence}) collides`).toBeUndefined();
        seen.set(value, `${seed}/${sequence}`);
      }
    }
    // The diagonal and swapped pairs in particular (what `seed ^ sequence` collapses).
    const diagonal = new Set(Array.from({ length: 256 }, (_, s) => deriveSeed(s, s, 0)));
    expect(diagonal.size).toBe(256);
    expect(deriveSeed(1, 2, 0)).not.toBe(deriveSeed(2, 1, 0));
    expect(deriveSeed(7, 0, 0)).not.toBe(deriveSeed(0, 7, 0));
  });

  it("separates turns and large seeds, is deterministic, and never asks llama.cpp for a random seed", () => {
    const turns = new Set(Array.from({ length: 32 }, (_, turn) => deriveSeed(42, 3, turn)));
    expect(turns.size).toBe(32);
    const seeds = [0, 1, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];
    const values = new Set<number>();
    for (const seed of seeds) for (let sequence = 0; sequence < 16; sequence++) values.add(deriveSeed(seed, sequence, 1));
    expect(values.size).toBe(seeds.length * 16);
    for (const value of values) {
      expect(Number.isInteger(value) && value >= 0 && value < 0xffffffff).toBe(true);
    }
    expect(deriveSeed(123, 4, 5)).toBe(deriveSeed(123, 4, 5));
  });
});
