// examples/sdk-study.ts run exactly as its header and README say: the default model made by
// `icrl model tiny --context 8192 -o .icrl/models/tiny.gguf` in a fresh directory, a real worker,
// the script with no settings. The table it prints must be the server's summary.
import { spawn } from "node:child_process";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { CreateApiKeyDocument, StudySummaryDocument } from "../../client-sdk/src/index.js";
import { PROJECT_ROOT } from "../../server/main.js";
import { createLogger } from "../../server/logger.js";
import { Worker } from "../../worker/runtime/worker.js";
import { cliEnv, runCli } from "../cli/helpers.js";
import { startTestServer, type TestServer } from "../support/server.js";

let t: TestServer;
let dir: string;

beforeAll(async () => {
  t = await startTestServer();
  dir = await mkdtemp(path.join(os.tmpdir(), "icrl-sdk-study-"));
  await chmod(dir, 0o755);
}, 120_000);

afterAll(async () => {
  await t?.close();
  await rm(dir, { recursive: true, force: true });
});

const TSX = pathToFileURL(path.join(PROJECT_ROOT, "node_modules/tsx/dist/loader.mjs")).href;

it("creates a 2 x 2 study, follows it to the end and prints the server's summary", { timeout: 600_000 }, async () => {
  const memberKey = (await t.admin.mutate(CreateApiKeyDocument, { name: "member", role: "MEMBER" })).createApiKey.secret;
  const made = await runCli(["model", "tiny", "--context", "8192", "-o", ".icrl/models/tiny.gguf"], cliEnv(t.server.url, memberKey), { cwd: dir });
  expect(made.code, made.stderr).toBe(0);

  const { ICRL_MODEL: _m, ICRL_SEEDS: _s, ...inherited } = process.env;
  const script = spawn(process.execPath, ["--import", TSX, path.join(PROJECT_ROOT, "examples/sdk-study.ts")], {
    cwd: dir,
    env: { ...inherited, ICRL_SERVER: t.server.url, ICRL_API_KEY: memberKey },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  script.stdout.on("data", (d) => (stdout += d));
  script.stderr.on("data", (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => script.on("close", resolve));

  const workerKey = (await t.admin.mutate(CreateApiKeyDocument, { name: "worker", role: "WORKER" })).createApiKey.secret;
  const worker = new Worker({
    serverUrl: t.server.url,
    token: workerKey,
    name: "study-example",
    threads: 1,
    gpu: false,
    dataDir: path.join(dir, "worker"),
    allowPaths: [dir],
    pollMs: 100,
    maxJobs: 4,
    logger: createLogger({ level: process.env.ICRL_TEST_LOG ?? "silent" }),
  });
  await worker.run();
  expect(await exited, `${stderr}\n--- stdout ---\n${stdout}`).toBe(0);

  const studyId = /^study ([0-9a-f-]{36}): 4 runs queued/m.exec(stdout)?.[1];
  expect(studyId, stdout).toBeDefined();
  expect(stdout).toContain("SUCCEEDED: 4/4 runs finished (0 running)");
  const summary = (await t.admin.query(StudySummaryDocument, { id: studyId!, metric: "reward/mean", at: "FINAL" })).study!.summary;
  const f = (v: number | null | undefined) => (v == null ? "-" : v.toFixed(4));
  const rows = stdout
    .split("\n")
    .filter((l) => /^(icrl|zero-shot)\t/.test(l))
    .map((l) => l.split("\t"));
  expect(rows.map((r) => r[0])).toEqual(["icrl", "zero-shot"]);
  for (const arm of summary.arms) {
    const row = rows.find((r) => r[0] === arm.arm)!;
    expect(row.slice(1, 4)).toEqual([String(arm.n), f(arm.mean), `[${f(arm.ciLow)}, ${f(arm.ciHigh)}]`]);
  }
  const diff = summary.differences.find((d) => d.arm === "icrl")!;
  expect(rows[0].slice(4)).toEqual([f(diff.meanDiff), `[${f(diff.ciLow)}, ${f(diff.ciHigh)}]`, f(diff.pValue)]);
  expect(rows[1][4]).toBe("baseline");
});
