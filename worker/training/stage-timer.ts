// Times the named stages of one training step and turns them into that step's time/* metrics, so
// every stage is measured the same way and the keys come from one list (contracts/metric-keys.ts).
import { STAGE_TIME_KEYS, STEP_TIME_KEY, TOOLS_TIME_KEY, type TrainingStageName } from "../../contracts/index.js";

const secondsSince = (started: number) => (performance.now() - started) / 1000;

export class StageTimer {
  private readonly stepStarted = performance.now();
  private readonly finished = new Map<TrainingStageName, number>();
  private readonly running = new Map<TrainingStageName, number>();
  private toolSeconds = 0;

  /** Runs `work` as `stage`; a stage entered more than once in a step adds up. */
  async time<T>(stage: TrainingStageName, work: () => T | Promise<T>): Promise<T> {
    const started = performance.now();
    this.running.set(stage, started);
    try {
      return await work();
    } finally {
      this.running.delete(stage);
      this.finished.set(stage, (this.finished.get(stage) ?? 0) + secondsSince(started));
    }
  }

  /** Tool time is measured by the rollouts themselves (it overlaps generation), so it is handed in. */
  addToolSeconds(seconds: number): void {
    this.toolSeconds += seconds;
  }

  /** `time/<stage>_s` of the given stages that ran, counting one still running up to now. */
  stageMetrics(stages: readonly TrainingStageName[]): Record<string, number> {
    const out: Record<string, number> = {};
    for (const stage of stages) {
      const running = this.running.get(stage);
      if (!this.finished.has(stage) && running === undefined) continue;
      out[STAGE_TIME_KEYS[stage]] = (this.finished.get(stage) ?? 0) + (running === undefined ? 0 : secondsSince(running));
    }
    return out;
  }

  toolMetrics(): Record<string, number> {
    return { [TOOLS_TIME_KEY]: this.toolSeconds };
  }

  /** The whole step so far: every stage plus the loop's own bookkeeping between them. */
  stepMetrics(): Record<string, number> {
    return { [STEP_TIME_KEY]: secondsSince(this.stepStarted) };
  }
}
