// Reads a study file (YAML or JSON) and validates it locally with the rules the server applies
// (contracts/study.ts), pointing each problem at its line and column: a bad field in an arm's patch
// at the patch, one the base config gets wrong at the base (inline, or in the run file it names).
import { readFile } from "node:fs/promises";
import path from "node:path";
import { LineCounter, parseDocument } from "yaml";
import { z } from "zod";
import { planStudy, type ConfigFieldError } from "../../contracts/index.js";
import { badInput } from "./exit-codes.js";
import { formatProblems, issueProblems, readRunDefinition, SourceMap, type FileProblem } from "./run-file.js";

export interface StudyDefinition {
  experiment?: string;
  name?: string;
  description?: string;
  baselineArm?: string;
  baseConfig: Record<string, unknown>;
  arms: { name: string; patch: Record<string, unknown> }[];
  seeds: number[];
}

const mapping = z.record(z.string(), z.unknown());

const envelope = z
  .object({
    experiment: z.string().min(1).optional(),
    name: z.string().min(1, "study name must not be empty").optional(),
    description: z.string().optional(),
    base: z.string().min(1, "base: the path of a run file").optional(),
    config: mapping.optional(),
    baseline: z.string().optional(),
    arms: z.record(z.string(), mapping.nullable(), { error: "arms: a mapping of arm name to config patch ({} for the base as is)" }),
    seeds: z.array(z.number().int()),
  })
  .strict();

export const STUDY_FILE_HELP = `
The file (YAML or JSON) holds one study: a base run config, arms as patches over it, and seeds.
Every (arm, seed) becomes a run named <study>/<arm>/seed-<seed>.

  experiment: qwen-search
  name: curriculum-ablation
  description: does removing demonstrations stage by stage help?
  base: runs/3-2-0.yaml            # a run file (its config:), relative to this file; or
  # config: { ... }                # the base run config inline
  baseline: curriculum             # differences are taken against this arm (default: the first)
  arms:
    curriculum: {}                 # the base as is
    zero-shot:                     # patches merge key by key; lists replace; null removes
      curriculum: { stages: [{ shots: 0, steps: 300 }] }
  seeds: [1, 2, 3, 4, 5]

It is validated locally before anything is sent (FILE:LINE:COL: path: message, exit code 2).`;

export async function readStudyDefinition(file: string, overrides: { experiment?: string; name?: string } = {}): Promise<StudyDefinition> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw badInput(`Cannot read ${file}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (err as Error).message}.`);
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length) {
    const pos = (e: (typeof doc.errors)[number]) => e.linePos?.[0] ?? { line: 1, col: 1 };
    throw badInput(
      `${file} is not valid YAML or JSON.`,
      doc.errors.map((e) => `${file}:${pos(e).line}:${pos(e).col}: ${e.message}`),
    );
  }
  const map = new SourceMap(doc, lines);
  const outer = envelope.safeParse(doc.toJS() ?? {});
  if (!outer.success) throw badInput(`${file} is not a valid study file.`, formatProblems(file, issueProblems(outer.error.issues, [], map)));
  const data = outer.data;

  const problems: string[] = [];
  const here: FileProblem[] = [];
  const experiment = overrides.experiment ?? data.experiment;
  const name = overrides.name ?? data.name;
  if (!experiment) here.push({ line: 1, col: 1, path: "experiment", message: "missing: add `experiment: <name>` or pass --experiment" });
  if (!name) here.push({ line: 1, col: 1, path: "name", message: "missing: add `name: <study name>` or pass --name" });
  if (!data.base === !data.config) here.push({ line: 1, col: 1, path: "base", message: "give exactly one of `base: <run file>` and `config: {...}`" });

  let baseConfig = data.config ?? {};
  let baseFile: { file: string; map: SourceMap } | null = null;
  if (data.base) {
    const runFile = path.resolve(path.dirname(file), data.base);
    // The base is a run file; its experiment and name are the study's business, not the base's.
    const parsed = await readRunDefinition(runFile, { experiment: "study", name: "base" });
    baseConfig = parsed.definition.rawConfig;
    baseFile = { file: runFile, map: parsed.map };
  }
  const arms = Object.entries(data.arms).map(([armName, patch]) => ({ name: armName, patch: patch ?? {} }));
  const plan = planStudy({ baseConfig, arms, seeds: data.seeds, baselineArm: data.baseline });
  if (!plan.ok) {
    for (const e of plan.errors) {
      const located = locate(e, arms, map, baseFile, data.config !== undefined);
      if (located.file === null) here.push(located.problem);
      else problems.push(...formatProblems(located.file, [located.problem]));
    }
  }
  const all = [...formatProblems(file, here), ...problems];
  if (all.length) throw badInput(`${file} is not a valid study (${all.length} problem${all.length === 1 ? "" : "s"}).`, all);
  return { experiment, name, description: data.description, baselineArm: data.baseline, baseConfig, arms, seeds: data.seeds };
}

function locate(
  error: ConfigFieldError,
  arms: { name: string; patch: Record<string, unknown> }[],
  map: SourceMap,
  baseFile: { file: string; map: SourceMap } | null,
  inlineConfig: boolean,
): { file: string | null; problem: FileProblem } {
  const parts = error.path.split(".");
  const file = null; // the study file itself
  if (parts[0] === "arms") {
    // "arms.<arm>.<config path>": the arm's name may itself contain dots, so match the known names.
    const arm = arms.find((a) => error.path === `arms.${a.name}` || error.path.startsWith(`arms.${a.name}.`));
    if (arm) {
      const configPath = error.path.slice(`arms.${arm.name}.`.length).split(".").filter(Boolean);
      const inPatch = configPath.length === 0 || configPath[0] in arm.patch || configPath[0] === "seed";
      const shown = `arms.${arm.name}${configPath.length ? `.${configPath.join(".")}` : ""}`;
      if (inPatch) return { file, problem: { ...map.locate(["arms", arm.name, ...configPath]), path: shown, message: error.message } };
      if (inlineConfig) return { file, problem: { ...map.locate(["config", ...configPath]), path: shown, message: `${error.message} (in the base config)` } };
      if (baseFile) return { file: baseFile.file, problem: { ...baseFile.map.locate(["config", ...configPath]), path: `config.${configPath.join(".")}`, message: `${error.message} (base of arm ${arm.name})` } };
    }
    const index = /^arms\.(\d+)\.name$/.exec(error.path);
    if (index) return { file, problem: { ...map.locate(["arms", arms[Number(index[1])]?.name ?? ""], true), path: error.path, message: error.message } };
  }
  const key = parts[0] === "baselineArm" ? "baseline" : parts[0];
  return { file, problem: { ...map.locate([key]), path: key, message: error.message } };
}
