// README.md's fenced code blocks with the section they sit in, so a test can hold an inventory of
// them and run the ones a reader would run.
import { readFileSync } from "node:fs";
import path from "node:path";
import { PROJECT_ROOT } from "../../server/main.js";

export interface ReadmeBlock {
  /** The fence's info string ("sh", "ts", "yaml" or ""). */
  lang: string;
  /** The nearest "## " heading above the block. */
  section: string;
  /** The nearest "### " heading inside that section ("" when none). */
  subsection: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The block's text, without the fences and with a list item's indentation removed. */
  text: string;
  /** The first non-empty line, trimmed: how the inventory names a block. */
  key: string;
}

export const README_PATH = path.join(PROJECT_ROOT, "README.md");

export function readReadme(): string {
  return readFileSync(README_PATH, "utf8");
}

export function readmeBlocks(readme = readReadme()): ReadmeBlock[] {
  const lines = readme.split("\n");
  const blocks: ReadmeBlock[] = [];
  let section = "";
  let subsection = "";
  for (let i = 0; i < lines.length; i++) {
    const heading = /^(##|###) (.*)$/.exec(lines[i]);
    if (heading?.[1] === "##") [section, subsection] = [heading[2].trim(), ""];
    if (heading?.[1] === "###") subsection = heading[2].trim();
    const fence = /^(\s*)```(\w*)\s*$/.exec(lines[i]);
    if (!fence) continue;
    const indent = fence[1].length;
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !/^\s*```\s*$/.test(lines[j])) body.push(lines[j++].slice(indent));
    if (j === lines.length) throw new Error(`README.md:${i + 1}: a code block is never closed`);
    const text = `${body.join("\n")}\n`;
    blocks.push({ lang: fence[2], section, subsection, line: i + 1, text, key: body.find((l) => l.trim())?.trim() ?? "" });
    i = j;
  }
  return blocks;
}
