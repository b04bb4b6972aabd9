// Seeded, resumable batches of training questions: each epoch is a fresh permutation drawn from
// (seed, epoch), and the position inside it is the whole state, so a checkpoint restores exactly
// the questions the lost steps would have seen.
import { mulberry32 } from "../icrl/seeded-random.js";

export interface SamplerState {
  epoch: number;
  position: number;
}

export function permutation(n: number, seed: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  const random = mulberry32(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

export class QuestionSampler<T> {
  private state: SamplerState = { epoch: 0, position: 0 };
  private order: number[];

  constructor(
    private readonly items: readonly T[],
    private readonly seed: number,
  ) {
    if (items.length === 0) throw new Error("the training split has no questions");
    this.order = permutation(items.length, this.epochSeed(0));
  }

  private epochSeed(epoch: number): number {
    return (Math.imul(this.seed + 1, 0x9e3779b1) ^ Math.imul(epoch + 1, 0x85ebca6b)) >>> 0;
  }

  next(count: number): T[] {
    const out: T[] = [];
    while (out.length < count) {
      if (this.state.position >= this.order.length) {
        this.state = { epoch: this.state.epoch + 1, position: 0 };
        this.order = permutation(this.items.length, this.epochSeed(this.state.epoch));
      }
      out.push(this.items[this.order[this.state.position++]]);
    }
    return out;
  }

  snapshot(): SamplerState {
    return { ...this.state };
  }

  restore(state: SamplerState): void {
    this.state = { ...state };
    this.order = permutation(this.items.length, this.epochSeed(state.epoch));
  }
}
