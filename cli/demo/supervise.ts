// Ctrl-C in a terminal signals the whole foreground process group: the demo's learner (Python) would
// die with it mid-step, before the worker can store a checkpoint and hand its job back. So on a
// terminal the demo runs in a process group of its own, and this parent passes the terminal's signals
// to it alone (a second Ctrl-C still quits at once: the demo itself counts them).
import { spawn } from "node:child_process";
import os from "node:os";

export const SUPERVISED_ENV = "ICRL_DEMO_SUPERVISED";

export async function superviseDemo(): Promise<never> {
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    detached: true,
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, [SUPERVISED_ENV]: "1" },
  });
  const forward = (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  process.on("SIGINT", () => forward("SIGINT"));
  process.on("SIGTERM", () => forward("SIGTERM"));
  process.on("SIGHUP", () => forward("SIGTERM"));
  const code = await new Promise<number>((resolve) => {
    child.once("error", () => resolve(1));
    child.once("exit", (exitCode, signal) => resolve(exitCode ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : 1)));
  });
  process.exit(code);
}
