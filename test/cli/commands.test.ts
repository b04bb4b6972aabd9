// The `icrl` client commands end to end, as child processes against a real server: experiments,
// datasets, run definitions from YAML/JSON (with errors pointing at file lines), JSON output and the
// exit codes scripts rely on.
import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { RunsDocument } from "../../client-sdk/src/index.js";
import { ADMIN_KEY, startTestServer, type TestServer } from "../support/server.js";
import { writeQaJsonl } from "../support/fixtures.js";
import { cliEnv, runCli } from "./helpers.js";

// Each CLI call is a Node process (~1.5 s of CPU); a test making several on a busy 2-core machine
// needs more than the default timeout.
vi.setConfig({ testTimeout: 240_000 });

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let t: TestServer;
let env: NodeJS.ProcessEnv;
let dir: string;
let datasetId: string;

beforeAll(async () => {
  t = await startTestServer();
  env = cliEnv(t.server.url, ADMIN_KEY);
  dir = await mkdtemp(path.join(os.tmpdir(), "icrl-cli-"));
  await writeQaJsonl(path.join(dir, "qa.jsonl"), 6);
});

afterAll(async () => {
  await t?.close();
});

const runYaml = (lr: string) => `# a run definition
experiment: yaml-exp
name: lr-${lr}
config:
  model:
    path: models/tiny.gguf
  dataset:
    id: ${datasetId}
  curriculum:
    stages:
      - { shots: 3, steps: 10 }
      - { shots: 2, steps: 10 }
      - { shots: 0, steps: 10 }
  grpo:
    lr: ${lr}
    groupSize: 4
`;

describe("datasets", () => {
  it("dataset import uploads the file with a progress bar, imports it and prints its id; dataset list shows it", async () => {
    const imported = await runCli(["dataset", "import", path.join(dir, "qa.jsonl"), "--name", "qa-small", "--kind", "qa"], env);
    expect(imported.stderr).toMatch(/uploading \[█+\] 100%/);
    expect(imported.stderr).toContain("Imported 6 items into dataset qa-small");
    expect(imported.code).toBe(0);
    datasetId = imported.stdout.trim();
    expect(datasetId).toMatch(UUID);

    const listed = await runCli(["dataset", "list", "--json"], env);
    expect(listed.code).toBe(0);
    const datasets = JSON.parse(listed.stdout) as { id: string; name: string; kind: string; itemCount: number; source: string }[];
    const mine = datasets.find((d) => d.id === datasetId);
    expect(mine).toMatchObject({ name: "qa-small", kind: "QA", itemCount: 6 });
    expect(mine!.source).toMatch(/^artifact:/);
  });
});

describe("experiments", () => {
  it("create, list and show, as aligned tables and as JSON", async () => {
    const created = await runCli(["experiment", "create", "search-r1", "--description", "tool use", "--tag", "qa", "--tag", "bm25", "--json"], env);
    expect(created.code).toBe(0);
    const experiment = JSON.parse(created.stdout);
    expect(experiment).toMatchObject({ name: "search-r1", description: "tool use", tags: ["qa", "bm25"], archived: false });
    await runCli(["experiment", "create", "a-much-longer-experiment-name"], env);

    const listed = await runCli(["experiment", "list"], env);
    expect(listed.code).toBe(0);
    const lines = listed.stdout.trimEnd().split("\n");
    const header = lines[0];
    const row = lines.find((l) => l.includes("search-r1"))!;
    const longRow = lines.find((l) => l.includes("a-much-longer-experiment-name"))!;
    // Aligned: every column starts where its header does.
    expect(row.indexOf("search-r1")).toBe(header.indexOf("NAME"));
    expect(row.indexOf("qa,bm25")).toBe(header.indexOf("TAGS"));
    expect(longRow.indexOf("-  ")).toBe(header.indexOf("TAGS"));
    expect(listed.stdout).not.toContain("\u001b["); // no colours when not on a terminal

    const shown = await runCli(["experiment", "show", "search-r1"], env);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(new RegExp(`^id +${experiment.id}$`, "m"));
    expect(shown.stdout).toMatch(/^tags +qa, bm25$/m);

    const again = await runCli(["experiment", "create", "search-r1"], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("already exists");
  });
});

describe("runs from a file", () => {
  it("run create validates a YAML file locally, creates the experiment by name and prints the run id", async () => {
    const file = path.join(dir, "experiment.yaml");
    await writeFile(file, runYaml("1.0e-4"));
    const created = await runCli(["run", "create", "-f", file], env);
    expect(created.stderr).toContain("(new experiment)");
    expect(created.code).toBe(0);
    const runId = created.stdout.trim();
    expect(runId).toMatch(UUID);

    const [shownJson, shown, listed] = await Promise.all([
      runCli(["run", "show", runId, "--json"], env),
      runCli(["run", "show", runId], env),
      runCli(["run", "list", "--experiment", "yaml-exp", "--status", "QUEUED", "--json"], env),
    ]);
    const run = JSON.parse(shownJson.stdout);
    expect(run).toMatchObject({ id: runId, name: "lr-1.0e-4", status: "QUEUED", experiment: { name: "yaml-exp" } });
    expect(run.config.grpo).toMatchObject({ lr: 1e-4, groupSize: 4 });
    expect(shown.stdout).toMatch(/progress +step 0\/30, stage 0/);
    expect(shown.stdout).toContain("3 → 2 → 0 shots (10/10/10 steps)");
    expect((JSON.parse(listed.stdout) as { id: string }[]).map((r) => r.id)).toEqual([runId]);

    // The same file with an experiment and name from the flags, then cancelled.
    const second = await runCli(["run", "create", "-f", file, "--experiment", "search-r1", "--name", "from-flags", "--json"], env);
    expect(second.code).toBe(0);
    const secondRun = JSON.parse(second.stdout);
    expect(secondRun).toMatchObject({ name: "from-flags", experiment: { name: "search-r1" } });
    const cancelled = await runCli(["run", "cancel", secondRun.id], env);
    expect(cancelled).toMatchObject({ code: 0, stdout: `${secondRun.id} CANCELLED\n` });
    await runCli(["run", "cancel", runId], env);
  });

  it("a file with bad fields exits 2, names each bad field's line and column, and creates nothing", async () => {
    const before = (await t.admin.query(RunsDocument, {})).runs.totalCount;
    const bad = path.join(dir, "bad.yaml");
    await writeFile(bad, runYaml("fast") + "  bogus: 3\n");
    const res = await runCli(["run", "create", "-f", bad], env);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("bad.yaml:15:9: config.grpo.lr: Invalid input: expected number, received string");
    expect(res.stderr).toContain("bad.yaml:17:3: config.bogus: unknown key");

    // JSON is read by the same parser: the line of the bad value in a pretty-printed file.
    const json = path.join(dir, "bad.json");
    await writeFile(json, JSON.stringify({ experiment: "yaml-exp", name: "j", config: { model: { path: 7 }, dataset: { id: datasetId } } }, null, 2));
    const fromJson = await runCli(["run", "create", "-f", json, "--json"], env);
    expect(fromJson.code).toBe(2);
    const error = JSON.parse(fromJson.stderr.trim().split("\n").pop()!).error;
    expect(error).toMatchObject({ code: "BAD_USER_INPUT", exitCode: 2 });
    expect(error.details).toEqual([expect.stringMatching(/bad\.json:6:15: config\.model\.path: Invalid input: expected string, received number/)]);

    // A field only the server can check (the dataset exists) is still reported at its line.
    const missing = path.join(dir, "missing-dataset.yaml");
    await writeFile(missing, runYaml("1e-4").replace(datasetId, "00000000-0000-4000-8000-000000000000"));
    const serverSide = await runCli(["run", "create", "-f", missing], env);
    expect(serverSide.code).toBe(2);
    expect(serverSide.stderr).toMatch(/missing-dataset\.yaml:8:9: config\.dataset\.id: dataset .* does not exist/);

    expect((await t.admin.query(RunsDocument, {})).runs.totalCount).toBe(before);
  });
});

describe("exit codes", () => {
  it("3 not found, 2 bad input or usage, 4 bad key, 5 server unreachable", async () => {
    // Two at a time: each is a Node process, and the machine has two cores.
    const [unknownRun, unknownExperiment] = await Promise.all([
      runCli(["run", "show", "00000000-0000-4000-8000-000000000000"], env),
      runCli(["experiment", "show", "no-such-experiment"], env),
    ]);
    const [notAnId, badStatus] = await Promise.all([runCli(["run", "show", "not-an-id"], env), runCli(["run", "list", "--status", "BOGUS"], env)]);
    const [usage, badKey] = await Promise.all([
      runCli(["run", "create"], env),
      runCli(["experiment", "list"], { ...env, ICRL_API_KEY: "icrl_wrong_key_0000000000" }),
    ]);
    const [badKeyJson, unreachable] = await Promise.all([
      runCli(["run", "list", "--token", "icrl_wrong_key_0000000000", "--json"], env),
      runCli(["experiment", "list", "--server", "http://127.0.0.1:1"], env),
    ]);
    expect(unknownRun.code).toBe(3);
    expect(unknownRun.stderr).toContain("No run with id 00000000-0000-4000-8000-000000000000");
    expect(unknownExperiment.code).toBe(3);
    expect(notAnId.code).toBe(2);
    expect(badStatus.code).toBe(2);
    expect(badStatus.stderr).toContain("Unknown status BOGUS");
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("required option '-f, --file <file>'");
    expect(badKey.code).toBe(4);
    expect(badKeyJson.code).toBe(4);
    expect(JSON.parse(badKeyJson.stderr).error).toMatchObject({ code: "UNAUTHENTICATED", exitCode: 4 });
    expect(unreachable.code).toBe(5);
    expect(unreachable.stderr).toContain("Cannot reach http://127.0.0.1:1");
  });

  it("icrl --help documents the exit codes", async () => {
    const help = await runCli(["--help"], env);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(
      /Exit codes \(client commands\):\n\s+0\s+ok\n\s+1\s+.*\n\s+2\s+bad usage.*\n\s+3\s+not found.*\n\s+4\s+not allowed.*\n\s+5\s+server unreachable/,
    );
  });
});
