// Runs the real `icrl` binary as a child process against a test server, and acts as a worker so
// runs have progress, metrics and rollouts to show.
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { PROJECT_ROOT } from "../../server/main.js";
import { ClaimJobDocument, CreateApiKeyDocument, RegisterWorkerDocument, type IcrlClient } from "../../client-sdk/src/index.js";
import type { TestServer } from "../support/server.js";

export const ICRL_BIN = path.join(PROJECT_ROOT, "bin/icrl.js");

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function cliEnv(url: string, token: string): NodeJS.ProcessEnv {
  return { ...process.env, ICRL_SERVER: url, ICRL_API_KEY: token, NO_COLOR: "1", FORCE_COLOR: "" };
}

export function spawnCli(args: string[], env: NodeJS.ProcessEnv, cwd = PROJECT_ROOT): ChildProcess {
  return spawn(process.execPath, [ICRL_BIN, ...args], { env, cwd, stdio: ["ignore", "pipe", "pipe"] });
}

export function runCli(args: string[], env: NodeJS.ProcessEnv, options: { cwd?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  const child = spawnCli(args, env, options.cwd);
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => (stdout += d));
  child.stderr!.on("data", (d) => (stderr += d));
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 120_000);
  return new Promise((resolve) =>
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

/** A registered worker (its own client) that can claim the job of one particular run. */
export async function newWorker(t: TestServer, name: string): Promise<IcrlClient> {
  const reg = (await t.admin.mutate(CreateApiKeyDocument, { name: `reg ${name}`, role: "WORKER" })).createApiKey.secret;
  const token = (await t.client(reg).mutate(RegisterWorkerDocument, { name, capabilities: { backend: "cpu" } })).registerWorker.token;
  return t.client(token);
}

/** Claim the (only) queued job; fails loudly if it is not the expected run's. */
export async function claimRun(worker: IcrlClient, runId: string): Promise<string> {
  const claimed = (await worker.mutate(ClaimJobDocument, { kinds: ["TRAIN"] })).claimJob;
  if (claimed?.job.run?.id !== runId) throw new Error(`expected to claim run ${runId}, got ${claimed?.job.run?.id ?? "nothing"}`);
  return claimed.job.id;
}

/** Lines of JSON from a child's stdout as they arrive. */
export function jsonLines(child: ChildProcess): { lines: unknown[]; waitFor(pred: (line: any) => boolean, timeoutMs?: number): Promise<void> } {
  const lines: unknown[] = [];
  let pending = "";
  const waiters: (() => void)[] = [];
  child.stdout!.on("data", (d) => {
    pending += d;
    let nl: number;
    while ((nl = pending.indexOf("\n")) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (line.trim()) lines.push(JSON.parse(line));
    }
    for (const w of waiters.splice(0)) w();
  });
  return {
    lines,
    waitFor: async (pred, timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!lines.some(pred)) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for a line; got ${JSON.stringify(lines).slice(0, 500)}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 200);
        });
      }
    },
  };
}
