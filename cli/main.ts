// One binary, one subcommand per file under ./commands. Each command module registers itself on the
// program so this file stays a table of contents.
import { Command } from "commander";

const program = new Command("icrl")
  .description("ICRL Lab: train language models to use tools with in-context reinforcement learning")
  .showHelpAfterError()
  .enablePositionalOptions();

type CommandModule = { register(program: Command): void };

// Lazy imports keep `icrl --help` fast: heavy modules (llama.cpp, Prisma) load only when used.
const commandModules: Array<() => Promise<CommandModule>> = [
  () => import("./commands/server.js"),
  () => import("./commands/model.js"),
  () => import("./commands/score.js"),
  () => import("./commands/tool.js"),
  () => import("./commands/experiment.js"),
  () => import("./commands/run.js"),
  () => import("./commands/study.js"),
  () => import("./commands/rollouts.js"),
  () => import("./commands/artifact.js"),
  () => import("./commands/dataset.js"),
  () => import("./commands/worker.js"),
  () => import("./commands/key.js"),
  () => import("./commands/bench.js"),
  () => import("./commands/demo.js"),
  () => import("./commands/doctor.js"),
];

for (const load of commandModules) {
  const mod = await load();
  mod.register(program);
}

await program.parseAsync(process.argv);
