// Reads a run definition file (YAML or JSON: JSON is YAML) and validates it locally with the same
// schema the server uses, reporting each problem at its line and column in the file, the way a
// compiler would: "exp.yaml:12:9: config.grpo.lr: expected number, received string".
import { readFile } from "node:fs/promises";
import { LineCounter, isMap, isPair, isScalar, isSeq, parseDocument, type Document } from "yaml";
import { z } from "zod";
import { runConfigSchema, unknownKeyMessage, type RunConfig } from "../../contracts/index.js";
import { badInput } from "./exit-codes.js";

export interface RunDefinition {
  experiment?: string;
  name?: string;
  curriculumId?: string;
  config: RunConfig;
  /** The config exactly as written (defaults are applied by the server too; sending this keeps the file's intent). */
  rawConfig: Record<string, unknown>;
}

const envelope = z
  .object({
    experiment: z.string().min(1, "experiment name must not be empty").optional(),
    name: z.string().min(1, "run name must not be empty").optional(),
    curriculumId: z.string().uuid("curriculumId must be the id of a curriculum").optional(),
    config: z.record(z.string(), z.unknown(), { error: "config must be a mapping of run settings" }),
  })
  .strict();

type PathPart = string | number;

export interface FileProblem {
  line: number;
  col: number;
  path: string;
  message: string;
}

/** Locates a value's path in the parsed document: the deepest node that exists on the path. */
export class SourceMap {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  /** atKey: point at the key itself rather than its value (for unknown keys). */
  locate(path: PathPart[], atKey = false): { line: number; col: number } {
    let node: unknown = this.doc.contents;
    let offset = rangeStart(node) ?? 0;
    for (const part of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(part));
        if (!pair) break;
        offset = rangeStart(pair.key) ?? offset;
        node = pair.value;
        // A scalar's own position is more precise than its key's; a nested mapping starts on the next line.
        if (isScalar(node) && !(atKey && part === path[path.length - 1])) offset = rangeStart(node) ?? offset;
      } else if (isSeq(node) && typeof part === "number") {
        const item = node.items[part];
        if (!item) break;
        offset = rangeStart(item) ?? offset;
        node = item;
      } else break;
    }
    return this.lines.linePos(offset);
  }
}

function rangeStart(node: unknown): number | undefined {
  return (node as { range?: [number, number, number] } | null)?.range?.[0];
}

/** Zod issues as file problems; `schema` (the one that produced them) lets unknown keys suggest the key meant. */
export function issueProblems(issues: z.core.$ZodIssue[], prefix: PathPart[], map: SourceMap, schema?: z.ZodType): FileProblem[] {
  return issues.flatMap((issue) => {
    const inner = issue.path.map((p) => (typeof p === "symbol" ? String(p) : p));
    const base = [...prefix, ...inner];
    if (issue.code === "unrecognized_keys") {
      // The issue names the parent; point at each unknown key itself.
      return issue.keys.map((k) => {
        const p = [...base, k];
        const message = schema ? unknownKeyMessage(schema, inner, k) : "unknown key (check the spelling)";
        return { ...map.locate(p, true), path: p.join("."), message };
      });
    }
    const message =
      issue.code === "invalid_type" && /received undefined$/.test(issue.message) ? `missing (expected ${issue.expected})` : issue.message;
    return [{ ...map.locate(base), path: base.join(".") || "(file)", message }];
  });
}

export function formatProblems(file: string, problems: FileProblem[]): string[] {
  return [...problems].sort((a, b) => a.line - b.line || a.col - b.col).map((p) => `${file}:${p.line}:${p.col}: ${p.path}: ${p.message}`);
}

export interface ParsedRunFile {
  definition: RunDefinition;
  map: SourceMap;
}

/** Parse and validate; throws a CLI bad-input error (exit 2) listing every problem with its line. */
export function parseRunDefinition(text: string, file: string, overrides: { experiment?: string; name?: string } = {}): ParsedRunFile {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length) {
    const details = doc.errors.map((e) => {
      const pos = e.linePos?.[0] ?? { line: 1, col: 1 };
      return `${file}:${pos.line}:${pos.col}: ${e.message}`;
    });
    throw badInput(`${file} is not valid YAML or JSON.`, details);
  }
  const map = new SourceMap(doc, lines);
  const value = doc.toJS() as unknown;
  const outer = envelope.safeParse(value ?? {});
  if (!outer.success) throw badInput(`${file} is not a valid run definition.`, formatProblems(file, issueProblems(outer.error.issues, [], map)));
  const problems: FileProblem[] = [];
  const experiment = overrides.experiment ?? outer.data.experiment;
  const name = overrides.name ?? outer.data.name;
  if (!experiment) problems.push({ line: 1, col: 1, path: "experiment", message: "missing: add `experiment: <name>` or pass --experiment" });
  if (!name) problems.push({ line: 1, col: 1, path: "name", message: "missing: add `name: <run name>` or pass --name" });
  const config = runConfigSchema.safeParse(outer.data.config);
  if (!config.success) problems.push(...issueProblems(config.error.issues, ["config"], map, runConfigSchema));
  if (problems.length || !config.success) {
    throw badInput(
      `${file} is not a valid run definition (${problems.length} problem${problems.length === 1 ? "" : "s"}).`,
      formatProblems(file, problems),
    );
  }
  return {
    definition: { experiment, name, curriculumId: outer.data.curriculumId, config: config.data, rawConfig: outer.data.config },
    map,
  };
}

/** Server field errors ("dataset.id") pointed at the file's lines, when the file has them. */
export function locateServerErrors(file: string, map: SourceMap, fieldErrors: { path: string; message: string }[]): string[] {
  return formatProblems(
    file,
    fieldErrors.map((f) => {
      const parts = f.path.split(".").map((p) => (/^\d+$/.test(p) ? Number(p) : p));
      const inFile = f.path === "name" || f.path === "curriculumId" ? parts : ["config", ...parts];
      return { ...map.locate(inFile), path: inFile.join("."), message: f.message };
    }),
  );
}

export async function readRunDefinition(file: string, overrides: { experiment?: string; name?: string } = {}): Promise<ParsedRunFile> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw badInput(`Cannot read ${file}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (err as Error).message}.`);
  }
  return parseRunDefinition(text, file, overrides);
}
