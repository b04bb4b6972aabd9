// Help text goes stale quietly (the worker's once said it ran "EVAL today" long after TRAIN jobs
// existed): every command and subcommand of every module in cli/commands/ is rendered as `--help`
// renders it and checked for wording that describes a past state of the project.
import type { Command } from "commander";
import { describe, expect, it } from "vitest";
import { icrlProgram } from "../support/cli-program.js";

async function allHelp(): Promise<Map<string, string>> {
  const program = await icrlProgram();
  const help = new Map<string, string>();
  const walk = (cmd: Command, name: string) => {
    help.set(name, cmd.helpInformation());
    for (const sub of cmd.commands) walk(sub, `${name} ${sub.name()}`);
  };
  walk(program, "icrl");
  return help;
}

describe("help text", () => {
  it("no command's help describes what the project did 'today' or 'for now'", async () => {
    const help = await allHelp();
    expect(help.size).toBeGreaterThan(20);
    const stale = [...help].filter(([, text]) => /\b(today|for now|not yet)\b/i.test(text)).map(([name]) => name);
    expect(stale).toEqual([]);
  });

  it("icrl worker says it runs both job kinds", async () => {
    const help = (await allHelp()).get("icrl worker")!;
    expect(help).toContain("claim and run jobs (TRAIN and EVAL)");
    expect(help).toContain("--python <path>");
  });
});
