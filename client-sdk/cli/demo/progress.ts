// One line per finished training step while the demo runs, so `npm start` shows learning happen
// without opening anything: reward, accuracy and tool use per step, and the zero-shot validation
// accuracy whenever it is measured.
import type { IcrlClient } from "../../client.js";
import { RunDocument, type RunQuery } from "../../generated/graphql.js";

type Run = NonNullable<RunQuery["run"]>;

const TERMINAL = new Set(["SUCCEEDED", "FAILED", "CANCELLED"]);

const fixed = (v: number | undefined, digits = 2) => (v === undefined ? "-" : v.toFixed(digits));

/** Total steps of a run config: maxSteps, else the curriculum's stages. */
export function plannedSteps(config: unknown): number | null {
  const c = config as { maxSteps?: number; curriculum?: { stages?: { steps?: number; maxSteps?: number }[] } };
  if (c.maxSteps) return c.maxSteps;
  const stages = c.curriculum?.stages ?? [];
  const total = stages.reduce((n, s) => n + (s.maxSteps ?? s.steps ?? 0), 0);
  return total > 0 ? total : null;
}

export function stepLine(run: Run, step: number, total: number | null): string {
  const at = new Map(run.latestMetrics.filter((p) => p.step === step).map((p) => [p.key, p.value]));
  const shots = at.get("curriculum/shots");
  const parts = [
    `step ${String(step).padStart(3)}${total ? `/${total}` : ""}`,
    shots === undefined ? "" : `${shots}-shot`.padEnd(6),
    `reward ${fixed(at.get("reward/mean"))}`,
    `accuracy ${fixed(at.get("accuracy/mean"))}`,
    `searches/rollout ${fixed(at.get("tools/valid_calls_per_rollout"))}`,
  ];
  const val = at.get("val/accuracy");
  if (val !== undefined) parts.push(`| zero-shot held-out accuracy ${fixed(val)}`);
  return parts.filter(Boolean).join("  ");
}

/**
 * Polls the run until it finishes (or `signal` aborts), printing each newly finished step once.
 * Resolves with the run as it ended (null when aborted first).
 */
export async function followRun(client: IcrlClient, runId: string, options: { print(line: string): void; signal: AbortSignal; intervalMs?: number }): Promise<Run | null> {
  let printed = 0;
  let total: number | null = null;
  let announced = false;
  while (!options.signal.aborted) {
    const run = (await client.query(RunDocument, { id: runId }, { signal: options.signal }).catch((err) => {
      if (options.signal.aborted) return null;
      throw err;
    }))?.run;
    if (!run) return null;
    total ??= plannedSteps(run.config);
    if (!announced && run.status === "RUNNING") {
      announced = true;
      // Before step 1 there is nothing to show for a while: say what is happening.
      const warm = (run.config as { warmStart?: { steps?: number } }).warmStart;
      if (run.step === 0) options.print(`the worker loads the model and the learner${warm ? `, then warms the LoRA up on the worked examples (${warm.steps} steps)` : ""}...`);
    }
    // A step is finished once its last metric (the step time, logged after the checkpoint) is in.
    const done = Math.max(0, ...run.latestMetrics.filter((p) => p.key === "time/step_s").map((p) => p.step));
    // Only the latest step's values are at hand: steps finished between two polls share one line.
    if (done !== printed && done > 0) options.print(stepLine(run, done, total));
    printed = done;
    if (TERMINAL.has(run.status)) return run;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, options.intervalMs ?? 1000);
      options.signal.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
    });
  }
  return null;
}
