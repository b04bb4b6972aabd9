// The curriculum: stages of decreasing shots, advanced either after a fixed number of steps (the
// paper: 3 -> 2 -> 0 shots, 100 steps each) or by rules over recent training metrics. The state is
// plain data (toJSON/fromJSON) so a run can checkpoint it and resume exactly where it was.
import { z } from "zod";

export const AdvanceRuleSchema = z.object({
  /** A metric key the training loop reports every step, e.g. "accuracy/mean". */
  metric: z.string().min(1),
  /** The rule looks at the mean of the metric over the last `window` steps of the current stage. */
  window: z.number().int().positive(),
  threshold: z.number(),
  op: z.enum([">=", ">", "<=", "<"]).default(">="),
});
export type AdvanceRule = z.output<typeof AdvanceRuleSchema>;

const positiveInt = z.number().int().positive();

/**
 * A stage. Without advance rules it lasts `steps` (or `maxSteps`) steps. With rules it advances once
 * it has run at least `minSteps` (default 0) steps and every rule holds over a full window, or when it
 * reaches `maxSteps` (default: `steps`; none: no upper bound).
 */
export const CurriculumStageSchema = z
  .object({
    shots: z.number().int().nonnegative(),
    steps: positiveInt.optional(),
    minSteps: z.number().int().nonnegative().optional(),
    maxSteps: positiveInt.optional(),
    /** Rules for this stage only; otherwise the curriculum's rules apply. */
    advance: z.array(AdvanceRuleSchema).optional(),
  })
  .refine((s) => s.minSteps === undefined || s.maxSteps === undefined || s.minSteps <= s.maxSteps, {
    message: "minSteps must not exceed maxSteps",
  });
export type CurriculumStage = z.output<typeof CurriculumStageSchema>;

export const CurriculumSpecSchema = z
  .object({
    stages: z.array(CurriculumStageSchema).min(1),
    /** Rules that all stages share (all must hold: AND). Empty: a fixed curriculum. */
    advance: z.array(AdvanceRuleSchema).default([]),
  })
  .superRefine((spec, ctx) => {
    spec.stages.forEach((stage, i) => {
      const rules = stage.advance ?? spec.advance;
      const last = i === spec.stages.length - 1;
      if (!last && rules.length === 0 && stage.steps === undefined && stage.maxSteps === undefined) {
        ctx.addIssue({ code: "custom", path: ["stages", i], message: "a stage without advance rules needs steps" });
      }
    });
  });
export type CurriculumSpec = z.output<typeof CurriculumSpecSchema>;
export type CurriculumSpecInput = z.input<typeof CurriculumSpecSchema>;

/** The paper's schedule: fixed stages of `stepsPerStage` steps with the given shots (3 -> 2 -> 0). */
export function paperCurriculum(options: { stepsPerStage?: number; shots?: number[] } = {}): CurriculumSpec {
  const steps = options.stepsPerStage ?? 100;
  return CurriculumSpecSchema.parse({
    stages: (options.shots ?? [3, 2, 0]).map((shots) => ({ shots, steps })),
    advance: [],
  });
}

export interface StageChange {
  /** First step run in the new stage (the step after the one that triggered the change). */
  step: number;
  fromStage: number;
  toStage: number;
  reason: string;
}

export interface CurriculumPosition {
  stageIndex: number;
  shots: number;
  /** Steps already observed in this stage. */
  stepsInStage: number;
  /** The last stage has run its full length; the training run may stop. */
  finished: boolean;
}

const SnapshotSchema = z.object({
  version: z.literal(1),
  spec: CurriculumSpecSchema,
  stageIndex: z.number().int().nonnegative(),
  stepsInStage: z.number().int().nonnegative(),
  lastStep: z.number().int().nullable(),
  /** Recent values of each rule metric within the current stage (oldest first). */
  recent: z.record(z.string(), z.array(z.number())),
  changes: z.array(z.object({ step: z.number().int(), fromStage: z.number().int(), toStage: z.number().int(), reason: z.string() })),
});
export type CurriculumSnapshot = z.output<typeof SnapshotSchema>;

// Window means are float sums: 15 * 0.2 + 5 * 0.6 over 20 is 0.29999999999999993, not 0.3. A rule
// "mean >= 0.3" must hold there, so comparisons allow a relative slack of 1e-9.
function compare(value: number, op: AdvanceRule["op"], threshold: number): boolean {
  const slack = 1e-9 * Math.max(1, Math.abs(threshold));
  const diff = value - threshold;
  if (op === ">=") return diff >= -slack;
  if (op === ">") return diff > slack;
  if (op === "<=") return diff <= slack;
  return diff < -slack;
}

const format = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(4).replace(/0+$/, ""));

export class CurriculumState {
  readonly spec: CurriculumSpec;
  private stage = 0;
  private stepsInStage = 0;
  private lastStep: number | null = null;
  private recent = new Map<string, number[]>();
  private readonly changeLog: StageChange[] = [];

  constructor(spec: CurriculumSpecInput) {
    this.spec = CurriculumSpecSchema.parse(spec);
  }

  get stageIndex(): number {
    return this.stage;
  }

  get shots(): number {
    return this.spec.stages[this.stage].shots;
  }

  get changes(): readonly StageChange[] {
    return this.changeLog;
  }

  /** Where the next step runs. */
  position(): CurriculumPosition {
    const max = this.maxSteps(this.stage);
    const last = this.stage === this.spec.stages.length - 1;
    return {
      stageIndex: this.stage,
      shots: this.shots,
      stepsInStage: this.stepsInStage,
      finished: last && max !== null && this.stepsInStage >= max,
    };
  }

  /**
   * Record that `step` ran with these metrics (keys as reported, e.g. "accuracy/mean") and return
   * where the next step runs. Steps must increase; metrics a rule does not name are ignored.
   */
  observe(step: number, metrics: Readonly<Record<string, number>>): CurriculumPosition & { change: StageChange | null } {
    if (!Number.isInteger(step)) throw new RangeError(`step must be an integer, got ${step}`);
    if (this.lastStep !== null && step <= this.lastStep) {
      throw new RangeError(`step ${step} observed after step ${this.lastStep}: steps must increase`);
    }
    this.lastStep = step;
    this.stepsInStage++;
    const rules = this.rules(this.stage);
    const window = Math.max(0, ...rules.map((r) => r.window));
    for (const metric of new Set(rules.map((r) => r.metric))) {
      const value = metrics[metric];
      if (typeof value !== "number" || !Number.isFinite(value)) continue;
      const values = this.recent.get(metric) ?? [];
      values.push(value);
      if (values.length > window) values.splice(0, values.length - window);
      this.recent.set(metric, values);
    }

    const reason = this.stage < this.spec.stages.length - 1 ? this.advanceReason() : null;
    let change: StageChange | null = null;
    if (reason !== null) {
      change = { step: step + 1, fromStage: this.stage, toStage: this.stage + 1, reason };
      this.changeLog.push(change);
      this.stage++;
      this.stepsInStage = 0;
      this.recent = new Map();
    }
    return { ...this.position(), change };
  }

  private rules(stage: number): AdvanceRule[] {
    return this.spec.stages[stage].advance ?? this.spec.advance;
  }

  private maxSteps(stage: number): number | null {
    const s = this.spec.stages[stage];
    return s.maxSteps ?? s.steps ?? null;
  }

  /** Why the current stage should end now, or null. */
  private advanceReason(): string | null {
    const stage = this.spec.stages[this.stage];
    const rules = this.rules(this.stage);
    const max = this.maxSteps(this.stage);
    if (rules.length === 0) {
      return max !== null && this.stepsInStage >= max ? `completed ${max} steps` : null;
    }
    if (this.stepsInStage >= (stage.minSteps ?? 0)) {
      const met: string[] = [];
      for (const rule of rules) {
        const values = this.recent.get(rule.metric) ?? [];
        if (values.length < rule.window) break;
        const windowValues = values.slice(values.length - rule.window);
        const mean = windowValues.reduce((a, b) => a + b, 0) / rule.window;
        if (!compare(mean, rule.op, rule.threshold)) break;
        met.push(`${rule.metric} mean ${format(mean)} ${rule.op} ${format(rule.threshold)} over ${rule.window} steps`);
      }
      if (met.length === rules.length) return `rules met: ${met.join("; ")}`;
    }
    if (max !== null && this.stepsInStage >= max) return `reached maxSteps ${max} without meeting the rules`;
    return null;
  }

  toJSON(): CurriculumSnapshot {
    return {
      version: 1,
      spec: this.spec,
      stageIndex: this.stage,
      stepsInStage: this.stepsInStage,
      lastStep: this.lastStep,
      recent: Object.fromEntries([...this.recent].map(([k, v]) => [k, [...v]])),
      changes: this.changeLog.map((c) => ({ ...c })),
    };
  }

  static fromJSON(json: unknown): CurriculumState {
    const snapshot = SnapshotSchema.parse(json);
    const state = new CurriculumState(snapshot.spec);
    if (snapshot.stageIndex >= state.spec.stages.length) {
      throw new RangeError(`snapshot stage ${snapshot.stageIndex} does not exist in its curriculum`);
    }
    state.stage = snapshot.stageIndex;
    state.stepsInStage = snapshot.stepsInStage;
    state.lastStep = snapshot.lastStep;
    state.recent = new Map(Object.entries(snapshot.recent).map(([k, v]) => [k, [...v]]));
    state.changeLog.push(...snapshot.changes);
    return state;
  }
}
