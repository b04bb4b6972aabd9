// One line per finished training step while the demo runs, so `npm start` shows learning happen
// without opening anything: reward, accuracy and tool use per step, and the zero-shot validation
// accuracy whenever it is measured.
import { type IcrlClient, MetricPointsDocument, RunDocument, type MetricPointsQuery, type RunQuery } from "../../client-sdk/src/index.js";

type Run = NonNullable<RunQuery["run"]>;

const TERMINAL = new Set(["SUCCEEDED", "FAILED", "CANCELLED"]);

/** What a step line shows; `time/step_s` is logged last, after the checkpoint: the step is finished. */
const LINE_KEYS = ["curriculum/shots", "reward/mean", "accuracy/mean", "tools/valid_calls_per_rollout", "val/accuracy", "time/step_s"];

const fixed = (v: number | undefined, digits = 2) => (v === undefined ? "-" : v.toFixed(digits));

/** Total steps of a run config: maxSteps, else the curriculum's stages. */
export function plannedSteps(config: unknown): number | null {
  const c = config as { maxSteps?: number; curriculum?: { stages?: { steps?: number; maxSteps?: number }[] } };
  if (c.maxSteps) return c.maxSteps;
  const stages = c.curriculum?.stages ?? [];
  const total = stages.reduce((n, s) => n + (s.maxSteps ?? s.steps ?? 0), 0);
  return total > 0 ? total : null;
}

export function stepLine(at: ReadonlyMap<string, number>, step: number, total: number | null): string {
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
 * Polls the run until it finishes (or `signal` aborts), printing each newly finished step once, in
 * order, also when several finish between two polls.
 * Resolves with the run as it ended (null when aborted first).
 */
export async function followRun(
  client: IcrlClient,
  runId: string,
  options: { print(line: string): void; signal: AbortSignal; intervalMs?: number },
): Promise<Run | null> {
  let printed: number | null = null;
  let total: number | null = null;
  let announced = false;
  // New metric points since the last poll (cursor order), gathered per step until the step is finished.
  let after: string | null = null;
  const steps = new Map<number, Map<string, number>>();
  const quiet = <T>(p: Promise<T>) =>
    p.catch((err: unknown) => {
      if (options.signal.aborted) return null;
      throw err;
    });
  while (!options.signal.aborted) {
    const run = (await quiet(client.query(RunDocument, { id: runId }, { signal: options.signal })))?.run;
    if (!run) return null;
    total ??= plannedSteps(run.config);
    // A continued run prints from where it continues, not its history.
    printed ??= run.step;
    if (!announced && run.status === "RUNNING") {
      announced = true;
      // Before step 1 there is nothing to show for a while: say what is happening.
      const warm = (run.config as { warmStart?: { steps?: number } }).warmStart;
      if (run.step === 0)
        options.print(
          `the worker loads the model and the learner${warm ? `, then warms the LoRA up on the worked examples (${warm.steps} steps)` : ""}...`,
        );
    }
    for (;;) {
      const page: MetricPointsQuery["metricPoints"] | undefined = (
        await quiet(client.query(MetricPointsDocument, { runId, keys: LINE_KEYS, first: 1000, after }, { signal: options.signal }))
      )?.metricPoints;
      if (!page) return null;
      for (const p of page.nodes) {
        if (!steps.has(p.step)) steps.set(p.step, new Map());
        steps.get(p.step)!.set(p.key, p.value);
      }
      after = page.pageInfo.endCursor ?? after;
      if (!page.pageInfo.hasNextPage) break;
    }
    for (const step of [...steps.keys()].sort((a, b) => a - b)) {
      const at = steps.get(step)!;
      if (step <= printed) steps.delete(step);
      else if (at.has("time/step_s")) {
        options.print(stepLine(at, step, total));
        printed = step;
        steps.delete(step);
      }
    }
    if (TERMINAL.has(run.status)) return run;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, options.intervalMs ?? 1000);
      options.signal.addEventListener(
        "abort",
        () => {
          clearTimeout(timer);
          resolve();
        },
        { once: true },
      );
    });
  }
  return null;
}
