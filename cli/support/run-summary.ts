// What a person wants to know about a run at a glance: how far along it is and what it was set up
// to do. Shared by `run show`, `run watch` and `run compare`.
import type { RunDetail } from "./resolve.js";
import { formatNumber } from "./output.js";

export const TERMINAL_STATUSES = ["SUCCEEDED", "FAILED", "CANCELLED"];

interface Stage {
  shots: number;
  steps?: number | null;
  maxSteps?: number | null;
}

type Config = Record<string, any>;

function stagesOf(run: Pick<RunDetail, "config" | "curriculum">): Stage[] {
  const fromRun = run.curriculum?.stages;
  if (fromRun?.length) return fromRun;
  return ((run.config as Config)?.curriculum?.stages as Stage[] | undefined) ?? [];
}

/** Total training steps when the run says: the curriculum's stage lengths, capped by config.maxSteps. */
export function stepTotal(run: Pick<RunDetail, "config" | "curriculum">): number | null {
  const stages = stagesOf(run);
  const lengths = stages.map((s) => s.steps ?? s.maxSteps ?? null);
  const fromStages = stages.length && lengths.every((n) => n != null) ? lengths.reduce((a, b) => a! + b!, 0)! : null;
  const maxSteps = ((run.config as Config)?.maxSteps as number | undefined) ?? null;
  if (fromStages != null && maxSteps != null) return Math.min(fromStages, maxSteps);
  return fromStages ?? maxSteps;
}

export function curriculumSummary(run: Pick<RunDetail, "config" | "curriculum">): string {
  const stages = stagesOf(run);
  if (!stages.length) return "-";
  const shots = stages.map((s) => `${s.shots}`).join(" → ");
  const steps = stages.map((s) => (s.steps ?? s.maxSteps ?? "?").toString()).join("/");
  return `${shots} shots (${steps} steps)${run.curriculum ? ` [${run.curriculum.name}]` : ""}`;
}

/** The handful of settings that tell runs apart, as label/value pairs. */
export function configSummary(run: Pick<RunDetail, "config" | "curriculum">): [string, string][] {
  const c = (run.config ?? {}) as Config;
  const tools = Object.keys(c.tools ?? {}).filter((k) => c.tools[k]);
  return [
    ["model", c.model?.path ?? "-"],
    ["task", c.task ?? "-"],
    ["dataset", c.dataset ? `${c.dataset.id} (${c.dataset.split ?? "train"})` : "-"],
    ["tools", tools.join(", ") || "none"],
    ["curriculum", curriculumSummary(run)],
    [
      "grpo",
      c.grpo ? `G=${c.grpo.groupSize} × ${c.grpo.questionsPerStep} questions, lr ${formatNumber(c.grpo.lr)}, kl ${formatNumber(c.grpo.klCoef)}` : "-",
    ],
    ["lora", c.lora ? `rank ${c.lora.rank}, alpha ${c.lora.alpha}` : "-"],
    ["reward", c.reward ? `${c.reward.metric} (accuracy ${c.reward.accuracyWeight}, format ${c.reward.formatWeight})` : "-"],
  ];
}

export function progressText(run: Pick<RunDetail, "step" | "stage" | "shots" | "config" | "curriculum">): string {
  const total = stepTotal(run);
  return `step ${run.step}${total != null ? `/${total}` : ""}, stage ${run.stage}${run.shots != null ? ` (${run.shots}-shot)` : ""}`;
}
