// Every `icrl …` command line README quotes (in inline code and in code blocks), checked against the
// real command tree: the subcommand exists and each option it shows is one that command takes.
import type { Command } from "commander";

export interface QuotedCommand {
  text: string;
  line: number;
}

/** Inline code spans and shell-block lines that contain an `icrl` command, cut at pipes, `;`, `&&` and comments. */
export function quotedIcrlCommands(readme: string): QuotedCommand[] {
  const out: QuotedCommand[] = [];
  const lines = readme.split("\n");
  // Inside a block: its language, or null outside one. Code (ts, yaml) is not a shell line.
  let block: string | null = null;
  lines.forEach((line, i) => {
    const fence = /^\s*```(\w*)/.exec(line);
    if (fence) {
      block = block === null ? fence[1] : null;
      return;
    }
    if (block !== null && block !== "sh" && block !== "") return;
    const pieces = block !== null ? [line] : [...line.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
    for (const piece of pieces) {
      // In a table cell `\|` is an alternative (`--kind qa\|math`), not a pipe.
      for (const part of piece.replace(/\\\|/g, "/").split(/\s*(?:\||;|&&|\s#\s)\s*/)) {
        const m = /(?:^|[\s($=])icrl((?:\s+\S+)*)/.exec(part);
        if (m?.[1].trim()) out.push({ text: `icrl${m[1]}`.replace(/\)+$/, ""), line: i + 1 });
      }
    }
  });
  return out;
}

/** What is wrong with a quoted command, or null. */
export function commandProblem(program: Command, text: string): string | null {
  const tokens = text
    .split(/\s+/)
    .slice(1)
    .flatMap((t) => (t.includes("/-") ? t.split("/") : [t])) // `ID\|--run ID`: either an id or the option
    .map((t) => t.replace(/^[[(]+|[\]).,]+$/g, ""));
  let cmd = program;
  let i = 0;
  for (; i < tokens.length; i++) {
    const sub = cmd.commands.find((c) => c.name() === tokens[i] || c.aliases().includes(tokens[i]));
    if (!sub) break;
    cmd = sub;
  }
  if (cmd === program && !tokens[0]?.startsWith("-")) return `no command "${tokens[0]}"`;
  const chain: Command[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) chain.push(c);
  for (const token of tokens.slice(i)) {
    const flag = /^(--?[A-Za-z][\w-]*)/.exec(token)?.[1];
    if (!flag || flag === "--help" || flag === "-h") continue;
    if (!chain.some((c) => c.options.some((o) => o.long === flag || o.short === flag))) {
      return `"${cmd.name()}" has no option ${flag}`;
    }
  }
  return null;
}
