// README's "GPU workers" section, checked on a CPU machine with the real CLI, server, worker and
// learner: where `requirements` and the learner's `device` go in a run file, that `icrl worker
// --python` decides which interpreter runs the learner, and that `icrl worker list` shows the
// backend a worker registered with.
import { appendFile, chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { CreateApiKeyDocument, RunDocument } from "../../client-sdk/src/index.js";
import { ADMIN_KEY, startTestServer, type TestServer } from "../support/server.js";
import { PYTHON } from "../learner/helpers.js";
import { lookupRunConfig, runJobs, setupLookup, type LookupSetup } from "../training/support.js";
import { cliEnv, runCli } from "./helpers.js";

let t: TestServer;
let dir: string;
let setup: LookupSetup;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  t = await startTestServer();
  dir = await mkdtemp(path.join(os.tmpdir(), "icrl-gpu-settings-"));
  await chmod(dir, 0o755);
  setup = await setupLookup(t, dir);
  // ICRL_PYTHON names nothing that exists, so only --python can make the learner start.
  env = { ...cliEnv(t.server.url, ADMIN_KEY), ICRL_PYTHON: path.join(dir, "no-such-python") };
});

afterAll(async () => {
  await t?.close();
  await rm(dir, { recursive: true, force: true });
});

async function runFile(name: string, learner: Record<string, unknown>): Promise<string> {
  const file = path.join(dir, `${name}.yaml`);
  const config = { ...lookupRunConfig(setup), requirements: { backend: "cpu" }, learner };
  await writeFile(file, stringify({ experiment: "gpu-settings", name, config }));
  return file;
}

describe("GPU settings in a run file and on the worker", () => {
  it("a run file's learner.device is validated at its line", { timeout: 120_000 }, async () => {
    const file = await runFile("bad-device", { device: "tpu" });
    const r = await runCli(["run", "create", "-f", file], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad-device\.yaml:\d+:\d+: config\.learner\.device: learner\.device must be auto, cpu, cuda or cuda:N/);
  });

  it("icrl worker refuses a --python that does not exist, with the fix", { timeout: 120_000 }, async () => {
    const r = await runCli(["worker", "--server", t.server.url, "--token", ADMIN_KEY, "--python", path.join(dir, "nope", "python")], env);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      `icrl worker: --python ${path.join(dir, "nope", "python")} is not an executable file; give the python of an environment with torch, e.g. --python .venv/bin/python`,
    );
  });

  it("--python runs the learner, which trains on the run's learner.device (cuda where torch sees none fails the run at once)", {
    timeout: 300_000,
  }, async () => {
    const created = await runCli(["run", "create", "-f", await runFile("wants-cuda", { device: "cuda" })], env);
    expect(created.code, created.stderr).toBe(0);
    const runId = created.stdout.trim();

    // A python that records each start and hides every GPU, so torch sees no CUDA device on any machine.
    const marker = path.join(dir, "python-started");
    const python = path.join(dir, "venv-python");
    await writeFile(python, `#!/bin/sh\necho "$@" >> '${marker}'\nCUDA_VISIBLE_DEVICES= exec '${PYTHON}' "$@"\n`);
    await chmod(python, 0o755);
    await appendFile(marker, "");

    const key = (await t.admin.mutate(CreateApiKeyDocument, { name: "cpu-box", role: "WORKER" })).createApiKey.secret;
    const worker = await runCli(
      [
        "worker",
        "--token",
        key,
        "--name",
        "cpu-box",
        "--gpu",
        "cpu",
        "--threads",
        "1",
        "--max-jobs",
        "1",
        "--python",
        python,
        "--log-level",
        "silent",
      ],
      // The run file's model lies in the test's directory: allowed through the environment, as a deployment would.
      { ...env, ICRL_SERVER: t.server.url, ICRL_ALLOW_PATHS: dir },
      { timeoutMs: 240_000 },
    );
    expect(worker.code, worker.stderr).toBe(0);
    expect(await readFile(marker, "utf8")).toContain("-m icrl_learner");

    const run = (await t.admin.query(RunDocument, { id: runId })).run!;
    expect(run.status).toBe("FAILED");
    expect(run.error).toMatch(/device cuda was requested but torch sees no CUDA device/);
    expect((await runJobs(t.admin, runId)).map((j) => [j.status, j.attempts])).toEqual([["FAILED", 1]]);

    const list = await runCli(["worker", "list", "--json"], env);
    expect(list.code).toBe(0);
    const workers = JSON.parse(list.stdout) as { name: string; capabilities: { backend: string } }[];
    expect(workers.find((w) => w.name === "cpu-box")?.capabilities.backend).toBe("cpu");
  });
});
