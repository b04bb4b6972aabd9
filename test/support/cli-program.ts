// The `icrl` command tree as the binary builds it (every module in cli/commands/ registered on one
// program), for tests that check help text or commands quoted in documentation without a process each.
import { readdir } from "node:fs/promises";
import path from "node:path";
import { Command } from "commander";
import { PROJECT_ROOT } from "../../server/main.js";

export async function icrlProgram(): Promise<Command> {
  const program = new Command("icrl");
  const dir = path.join(PROJECT_ROOT, "cli/commands");
  for (const file of (await readdir(dir)).filter((f) => f.endsWith(".ts")).sort()) {
    const mod = (await import(path.join(dir, file))) as { register(program: Command): void };
    mod.register(program);
  }
  return program;
}
