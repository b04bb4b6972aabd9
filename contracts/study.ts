// A study: arms (each a patch over one base run config) crossed with seeds. The server, the CLI
// (which validates study files locally before sending them) and the SDK share these rules, so an arm
// whose patch breaks the config is named the same way everywhere: "arms.<arm>.<path>".
import { z } from "zod";
import { validateRunConfig, type ConfigFieldError, type RunConfig } from "./run-config.js";

export const armNameSchema = z
  .string()
  .min(1, "arm name must not be empty")
  .max(64, "arm name must be at most 64 characters")
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, "arm name: letters, digits, '_', '.', '-' (it becomes part of run names)");

export const studySeedsSchema = z
  .array(z.number().int().min(0, "seeds are non-negative integers"))
  .min(1, "a study needs at least one seed")
  .max(100, "at most 100 seeds")
  .refine((s) => new Set(s).size === s.length, "seeds must be distinct");

export interface StudyArmInput {
  name: string;
  /** Merged over the base config: mappings merge key by key, anything else (lists included) replaces, null removes. */
  patch: Record<string, unknown>;
}

export interface StudyDesign {
  baseConfig: Record<string, unknown>;
  arms: StudyArmInput[];
  seeds: number[];
  /** Defaults to the first arm. */
  baselineArm?: string | null;
}

export interface PlannedStudyRun {
  arm: string;
  seed: number;
  config: RunConfig;
}

const isMapping = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** The base config with a patch applied (see StudyArmInput.patch); neither input is modified. */
export function applyConfigPatch(base: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else if (isMapping(value) && isMapping(out[key])) out[key] = applyConfigPatch(out[key] as Record<string, unknown>, value);
    else out[key] = value;
  }
  return out;
}

/** The run name of one cell of the study: unique within the study and readable in every list. */
export function studyRunName(study: string, arm: string, seed: number): string {
  return `${study}/${arm}/seed-${seed}`;
}

/**
 * Every run the study will create, or every problem at once. A problem's path says where to look:
 * "seeds", "arms.1.name", "baselineArm", or "arms.<arm>.<config path>" for a field an arm's merged
 * config gets wrong (the seed is set per run, so an arm's own seed is reported too).
 */
export function planStudy(
  design: StudyDesign,
): { ok: true; runs: PlannedStudyRun[]; baselineArm: string } | { ok: false; errors: ConfigFieldError[] } {
  const errors: ConfigFieldError[] = [];
  const seeds = studySeedsSchema.safeParse(design.seeds);
  if (!seeds.success) errors.push(...seeds.error.issues.map((i) => ({ path: "seeds", message: i.message })));
  if (!design.arms.length) errors.push({ path: "arms", message: "a study needs at least one arm" });
  const seen = new Set<string>();
  design.arms.forEach((arm, i) => {
    const name = armNameSchema.safeParse(arm.name);
    if (!name.success) errors.push({ path: `arms.${i}.name`, message: name.error.issues[0].message });
    else if (seen.has(arm.name)) errors.push({ path: `arms.${i}.name`, message: `duplicate arm name "${arm.name}": arm names must be distinct` });
    seen.add(arm.name);
    if (!isMapping(arm.patch)) errors.push({ path: `arms.${arm.name}`, message: "an arm's patch must be a mapping of run settings" });
    else if ("seed" in arm.patch) errors.push({ path: `arms.${arm.name}.seed`, message: "seeds are set by the study (seeds: [...]), not per arm" });
  });
  const baselineArm = design.baselineArm ?? design.arms[0]?.name;
  if (design.baselineArm != null && !seen.has(design.baselineArm)) {
    errors.push({ path: "baselineArm", message: `no arm is named "${design.baselineArm}" (arms: ${[...seen].join(", ") || "none"})` });
  }
  const runs: PlannedStudyRun[] = [];
  for (const arm of design.arms) {
    if (!isMapping(arm.patch)) continue;
    // The first seed stands in for all: seeds are valid integers, so they cannot make a config invalid.
    const merged = applyConfigPatch(design.baseConfig, { ...arm.patch, seed: seeds.success ? seeds.data[0] : 0 });
    const parsed = validateRunConfig(merged);
    if (!parsed.ok) {
      errors.push(...parsed.errors.map((e) => ({ path: `arms.${arm.name}.${e.path}`, message: e.message })));
      continue;
    }
    if (seeds.success) for (const seed of seeds.data) runs.push({ arm: arm.name, seed, config: { ...parsed.config, seed } });
  }
  if (errors.length || !baselineArm) return { ok: false, errors };
  return { ok: true, runs, baselineArm };
}
