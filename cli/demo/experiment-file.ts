// The demo's experiment file is a run file (`icrl run create -f`) with placeholders for what only
// exists once the demo has generated and imported it: ${DEMO_DIR} (the demo's data directory, where
// the model and corpus are written), ${DATASET_ID} and ${DEMONSTRATION_SET_ID} (the ids the server
// gave the imported dataset and demonstration set), and ${LOOKUP_TEMPLATE} (the lookup task's prompt
// template as inline JSON, so the file follows the task's wording). Filling them gives a plain run file.
import { parseDocument } from "yaml";
import { parseSetting } from "../support/config-patch.js";
import { badInput } from "../support/exit-codes.js";

export const PLACEHOLDERS = ["DEMO_DIR", "DATASET_ID", "DEMONSTRATION_SET_ID", "LOOKUP_TEMPLATE"] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];

/** Replaces every ${NAME}; an unknown name is an error at its line, not a silent literal. */
export function fillPlaceholders(text: string, file: string, values: Record<Placeholder, string>): string {
  const unknown: string[] = [];
  const filled = text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, name: string, offset: number) => {
    if ((PLACEHOLDERS as readonly string[]).includes(name)) return values[name as Placeholder];
    const line = text.slice(0, offset).split("\n").length;
    unknown.push(`${file}:${line}: unknown placeholder ${whole} (known: ${PLACEHOLDERS.map((p) => "${" + p + "}").join(", ")})`);
    return whole;
  });
  if (unknown.length) throw badInput(`${file} uses placeholders the demo does not know.`, unknown);
  return filled;
}

/**
 * Applies `--set path=value` overrides under `config` (e.g. "grpo.lr=0.01", "warmStart.steps=5"),
 * keeping the file's comments and layout. Values are YAML: numbers, booleans, strings, {...}, [...].
 */
export function withOverrides(text: string, overrides: readonly string[]): string {
  if (!overrides.length) return text;
  const doc = parseDocument(text);
  for (const { path, value } of overrides.map(parseSetting)) doc.setIn(["config", ...path], value);
  return doc.toString({ lineWidth: 0 });
}
