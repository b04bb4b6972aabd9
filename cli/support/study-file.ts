// Reads a study file (YAML or JSON) and validates it locally with the rules the server applies
// (contracts/study.ts), pointing each problem at its line and column: a bad field in an arm's patch
// at the patch, one the base config gets wrong at the base (inline, or in the run file it names).
import { readFile } from "node:fs/promises";
import path from "node:path";
import { LineCounter, parseDocument } from "yaml";
import { z } from "zod";
import { planStudy, type ConfigFieldError } from "../../contracts/index.js";
import { mergeConfig, patchFromSettings } from "./config-patch.js";
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

export interface ParsedStudyFile {
  definition: StudyDefinition;
  /** Points field errors the server reports (paths as createStudy names them) at the file's lines. */
  locateServerErrors(errors: ConfigFieldError[]): string[];
}

export interface StudyFileOverrides {
  experiment?: string;
  name?: string;
  /** `--set path=value` settings over the base config (e.g. model.path=base-b.gguf): one study file, several bases. */
  set?: readonly string[];
  /** `--arms`: only these of the file's arms (the baseline arm among them, if the file names one). */
  arms?: readonly string[];
  /** `--seeds`: these seeds instead of the file's. */
  seeds?: readonly number[];
}

export async function readStudyDefinition(file: string, overrides: StudyFileOverrides = {}): Promise<ParsedStudyFile> {
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

  const here: FileProblem[] = [];
  const experiment = overrides.experiment ?? data.experiment;
  const name = overrides.name ?? data.name;
  if (!experiment) here.push({ line: 1, col: 1, path: "experiment", message: "missing: add `experiment: <name>` or pass --experiment" });
  if (!name) here.push({ line: 1, col: 1, path: "name", message: "missing: add `name: <study name>` or pass --name" });
  if (!data.base === !data.config)
    here.push({ line: 1, col: 1, path: "base", message: "give exactly one of `base: <run file>` and `config: {...}`" });

  let baseConfig = data.config ?? {};
  let baseFile: { file: string; map: SourceMap } | null = null;
  if (data.base) {
    const runFile = path.resolve(path.dirname(file), data.base);
    // The base is a run file; its experiment and name are the study's business, not the base's.
    const parsed = await readRunDefinition(runFile, { experiment: "study", name: "base" });
    baseConfig = parsed.definition.rawConfig;
    baseFile = { file: runFile, map: parsed.map };
  }
  if (overrides.set?.length) baseConfig = mergeConfig(baseConfig, patchFromSettings(overrides.set));
  let arms = Object.entries(data.arms).map(([armName, patch]) => ({ name: armName, patch: patch ?? {} }));
  if (overrides.arms) {
    const known = arms.map((a) => a.name);
    const armsAt = map.locate(["arms"]);
    for (const unknown of overrides.arms.filter((a) => !known.includes(a)))
      here.push({ ...armsAt, path: "arms", message: `--arms names "${unknown}", which the file does not have (its arms: ${known.join(", ")})` });
    if (data.baseline && !overrides.arms.includes(data.baseline))
      here.push({
        ...armsAt,
        path: "baseline",
        message: `--arms leaves out the baseline arm "${data.baseline}", which paired differences need: add it`,
      });
    arms = arms.filter((a) => overrides.arms!.includes(a.name));
  }
  const seeds = overrides.seeds ? [...overrides.seeds] : data.seeds;
  const locateAll = (errors: ConfigFieldError[], extra: FileProblem[] = []) => {
    const inStudyFile = [...extra];
    const elsewhere: string[] = [];
    for (const e of errors) {
      const located = locate(e, arms, map, baseFile, data.config !== undefined);
      if (located.file === null) inStudyFile.push(located.problem);
      else elsewhere.push(...formatProblems(located.file, [located.problem]));
    }
    return [...new Set([...formatProblems(file, inStudyFile), ...elsewhere])];
  };
  const plan = planStudy({ baseConfig, arms, seeds, baselineArm: data.baseline });
  const all = locateAll(plan.ok ? [] : plan.errors, here);
  if (all.length) throw badInput(`${file} is not a valid study (${all.length} problem${all.length === 1 ? "" : "s"}).`, all);
  return {
    definition: { experiment, name, description: data.description, baselineArm: data.baseline, baseConfig, arms, seeds },
    locateServerErrors: (errors) => locateAll(errors),
  };
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
      const at = configPath.map((p) => (/^\d+$/.test(p) ? Number(p) : p)); // list indices address YAML sequences
      const shown = `arms.${arm.name}${configPath.length ? `.${configPath.join(".")}` : ""}`;
      if (inPatch) return { file, problem: { ...map.locate(["arms", arm.name, ...at]), path: shown, message: error.message } };
      // A base problem is every arm's problem: said once, at the base, under its own path.
      const basePath = `config.${configPath.join(".")}`;
      if (inlineConfig)
        return { file, problem: { ...map.locate(["config", ...at]), path: basePath, message: `${error.message} (in the base config)` } };
      if (baseFile)
        return {
          file: baseFile.file,
          problem: { ...baseFile.map.locate(["config", ...at]), path: basePath, message: `${error.message} (in the base run file)` },
        };
    }
    const index = /^arms\.(\d+)\.name$/.exec(error.path);
    if (index)
      return { file, problem: { ...map.locate(["arms", arms[Number(index[1])]?.name ?? ""], true), path: error.path, message: error.message } };
  }
  const key = parts[0] === "baselineArm" ? "baseline" : parts[0];
  return { file, problem: { ...map.locate([key]), path: key, message: error.message } };
}
