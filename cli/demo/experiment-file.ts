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

/**
 * Where a YAML comment starts on this line (its length when none): a `#` at the start or after
 * whitespace, outside quotes. Quoted strings spanning lines are not followed; the demo's file has none.
 */
function commentStart(line: string): number {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === "\\" && quote === '"') i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "#" && (i === 0 || /\s/.test(line[i - 1]))) return i;
  }
  return line.length;
}

/**
 * Replaces every ${NAME} in the YAML (comments stay as written: they document the placeholders); an
 * unknown name is an error at its line, not a silent literal.
 */
export function fillPlaceholders(text: string, file: string, values: Record<Placeholder, string>): string {
  const unknown: string[] = [];
  const lines = text.split("\n").map((line, index) => {
    const cut = commentStart(line);
    const code = line.slice(0, cut).replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, name: string) => {
      if ((PLACEHOLDERS as readonly string[]).includes(name)) return values[name as Placeholder];
      unknown.push(`${file}:${index + 1}: unknown placeholder ${whole} (known: ${PLACEHOLDERS.map((p) => "${" + p + "}").join(", ")})`);
      return whole;
    });
    return code + line.slice(cut);
  });
  if (unknown.length) throw badInput(`${file} uses placeholders the demo does not know.`, unknown);
  return lines.join("\n");
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
