// `icrl doctor`: what this machine has and lacks for the server, a worker and the demo, each missing
// part with the command that installs it. Exit 0 when nothing required is missing.
import path from "node:path";
import type { Command } from "commander";
import { EXIT } from "../support/exit-codes.js";

interface DoctorOptions {
  python?: string;
  dataDir: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command("doctor")
    .description("check this machine: Node.js, python3 and torch, OpenBLAS, bubblewrap, GPU backends, free disk; print how to fix what is missing")
    .option("--python <path>", "the learner's Python (env ICRL_PYTHON; default /usr/bin/python3)")
    .option("--data-dir <dir>", "where data will live, for the free-disk check", ".icrl")
    .option("--json", "print JSON instead of a table")
    .addHelpText(
      "after",
      `\nExit codes: 0 nothing required is missing (warnings allowed), ${EXIT.MISSING_REQUIREMENT} a required part is missing, 2 bad usage.`,
    )
    .exitOverride((error) => process.exit(error.exitCode === 0 ? EXIT.OK : EXIT.BAD_INPUT))
    .action(async (opts: DoctorOptions) => {
      const { allChecks } = await import("../doctor/checks.js");
      const { learnerPython } = await import("../doctor/python-torch.js");
      const { anyFailed, formatTable } = await import("../doctor/report.js");
      const results = await allChecks({ python: learnerPython(opts.python), dataDir: path.resolve(opts.dataDir) });
      process.stdout.write(opts.json ? `${JSON.stringify(results, null, 2)}\n` : formatTable(results));
      process.exit(anyFailed(results) ? EXIT.MISSING_REQUIREMENT : EXIT.OK);
    });
}
