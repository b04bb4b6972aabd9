import { describe, expect, it } from "vitest";
import { CurriculumSpecSchema, CurriculumState, paperCurriculum, type CurriculumSpecInput } from "../../worker/icrl/curriculum.js";

const TOOLS = "tools/valid_calls_per_rollout";
const ACC = "accuracy/mean";

/** Observe steps [from, to) with metrics from `metrics(step)`; returns the shots each step ran with. */
function drive(state: CurriculumState, from: number, to: number, metrics: (step: number) => Record<string, number>) {
  const shots: number[] = [];
  for (let step = from; step < to; step++) {
    shots.push(state.shots);
    state.observe(step, metrics(step));
  }
  return shots;
}

describe("curriculum", () => {
  it("defaults to the paper's fixed 3 -> 2 -> 0 shots, 100 steps each", () => {
    const state = new CurriculumState(paperCurriculum());
    const shots = drive(state, 0, 300, () => ({}));
    expect(shots.slice(0, 100).every((s) => s === 3)).toBe(true);
    expect(shots.slice(100, 200).every((s) => s === 2)).toBe(true);
    expect(shots.slice(200).every((s) => s === 0)).toBe(true);
    expect(state.changes).toEqual([
      { step: 100, fromStage: 0, toStage: 1, reason: "completed 100 steps" },
      { step: 200, fromStage: 1, toStage: 2, reason: "completed 100 steps" },
    ]);
    expect(state.position()).toEqual({ stageIndex: 2, shots: 0, stepsInStage: 100, finished: true });
  });

  it("is configurable: stage lengths and shots", () => {
    const state = new CurriculumState(paperCurriculum({ stepsPerStage: 5, shots: [4, 1] }));
    expect(drive(state, 1, 11, () => ({}))).toEqual([4, 4, 4, 4, 4, 1, 1, 1, 1, 1]);
    expect(state.changes.map((c) => c.step)).toEqual([6]);
    expect(state.position().finished).toBe(true);
  });

  const adaptive: CurriculumSpecInput = {
    stages: [{ shots: 3, minSteps: 30, maxSteps: 80 }, { shots: 2, minSteps: 10, maxSteps: 50 }, { shots: 0 }],
    advance: [
      { metric: TOOLS, window: 20, threshold: 1 },
      { metric: ACC, window: 20, threshold: 0.3 },
    ],
  };

  it("advances when every rule holds over a full window, but not before minSteps", () => {
    const state = new CurriculumState(adaptive);
    // Good metrics from the start: windows are full after 20 steps, minSteps holds the stage to 30.
    drive(state, 0, 40, () => ({ [TOOLS]: 1.5, [ACC]: 0.5 }));
    expect(state.changes[0]).toMatchObject({ step: 30, fromStage: 0, toStage: 1 });
    expect(state.changes[0].reason).toBe(
      "rules met: tools/valid_calls_per_rollout mean 1.5 >= 1 over 20 steps; accuracy/mean mean 0.5 >= 0.3 over 20 steps",
    );
    // Metrics of the previous stage do not count: stage 1 needs 20 fresh values even though minSteps is 10.
    expect(state.stageIndex).toBe(1);
    drive(state, 40, 60, () => ({ [TOOLS]: 1.5, [ACC]: 0.5 }));
    expect(state.changes[1]).toMatchObject({ step: 50, fromStage: 1, toStage: 2 });
  });

  it("needs ALL rules (AND) and uses the window mean, not the last value", () => {
    const state = new CurriculumState(adaptive);
    // Tool use is fine but accuracy stays below the threshold.
    drive(state, 0, 60, () => ({ [TOOLS]: 2, [ACC]: 0.2 }));
    expect(state.stageIndex).toBe(0);
    // Now accuracy jumps: the 20-step mean reaches 0.3 only once 5 of the last 20 values are 0.6
    // (15 * 0.2 + 5 * 0.6 = 6 = 0.3 * 20).
    drive(state, 60, 64, () => ({ [TOOLS]: 2, [ACC]: 0.6 }));
    expect(state.stageIndex).toBe(0);
    state.observe(64, { [TOOLS]: 2, [ACC]: 0.6 });
    expect(state.stageIndex).toBe(1);
    expect(state.changes[0].step).toBe(65);
  });

  it("forces the advance at maxSteps when the rules never hold", () => {
    const state = new CurriculumState(adaptive);
    drive(state, 0, 80, () => ({ [TOOLS]: 0, [ACC]: 0 }));
    expect(state.changes).toEqual([{ step: 80, fromStage: 0, toStage: 1, reason: "reached maxSteps 80 without meeting the rules" }]);
  });

  it("ignores missing and non-finite metric values (the window counts reported values only)", () => {
    const state = new CurriculumState({
      stages: [{ shots: 2 }, { shots: 0 }],
      advance: [{ metric: ACC, window: 3, threshold: 0.5 }],
    });
    state.observe(0, { [ACC]: 0.9 });
    state.observe(1, {});
    state.observe(2, { [ACC]: Number.NaN });
    state.observe(3, { [ACC]: 0.9 });
    expect(state.stageIndex).toBe(0);
    const pos = state.observe(4, { [ACC]: 0.9 });
    expect(pos).toMatchObject({ stageIndex: 1, shots: 0, stepsInStage: 0 });
    expect(pos.change).toMatchObject({ step: 5, fromStage: 0, toStage: 1 });
  });

  it("supports other comparison operators and per-stage rules", () => {
    const state = new CurriculumState({
      stages: [{ shots: 3, advance: [{ metric: "response/length_mean", window: 2, threshold: 100, op: "<" }] }, { shots: 1, steps: 2 }, { shots: 0 }],
    });
    state.observe(0, { "response/length_mean": 150 });
    state.observe(1, { "response/length_mean": 90 });
    expect(state.stageIndex).toBe(0); // mean 120
    state.observe(2, { "response/length_mean": 80 });
    expect(state.stageIndex).toBe(1); // mean 85 < 100
    // Stage 1 has its own (empty) rule list: it is a fixed 2-step stage.
    state.observe(3, {});
    state.observe(4, {});
    expect(state.stageIndex).toBe(2);
    expect(state.position().finished).toBe(false); // the last stage has no length
  });

  it("round-trips through JSON and resumes exactly", () => {
    const metrics = (step: number) => ({ [TOOLS]: step % 7 === 0 ? 0 : 1.4, [ACC]: 0.25 + (step % 5) * 0.03 });
    const original = new CurriculumState(adaptive);
    drive(original, 0, 47, metrics);
    const snapshot = JSON.parse(JSON.stringify(original));
    const resumed = CurriculumState.fromJSON(snapshot);
    expect(resumed.toJSON()).toEqual(original.toJSON());
    const a = drive(original, 47, 200, metrics);
    const b = drive(resumed, 47, 200, metrics);
    expect(b).toEqual(a);
    expect(resumed.changes).toEqual(original.changes);
    expect(resumed.toJSON()).toEqual(original.toJSON());
    expect(original.changes.length).toBe(2);
  });

  it("rejects steps that do not increase, bad snapshots and bad specs", () => {
    const state = new CurriculumState(paperCurriculum());
    state.observe(5, {});
    expect(() => state.observe(5, {})).toThrow(RangeError);
    expect(() => state.observe(4, {})).toThrow(RangeError);
    expect(() => CurriculumState.fromJSON({ ...state.toJSON(), stageIndex: 7 })).toThrow(RangeError);
    expect(() => CurriculumState.fromJSON({ version: 2 })).toThrow();
    // A middle stage with neither steps nor rules would never end.
    expect(CurriculumSpecSchema.safeParse({ stages: [{ shots: 3 }, { shots: 0 }] }).success).toBe(false);
    expect(CurriculumSpecSchema.safeParse({ stages: [{ shots: 3, minSteps: 9, maxSteps: 5 }], advance: [] }).success).toBe(false);
    expect(CurriculumSpecSchema.safeParse({ stages: [] }).success).toBe(false);
  });
});
