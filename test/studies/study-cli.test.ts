// `icrl study` end to end with the real binary: a study file validated locally (line and column),
// created, run by `icrl worker --concurrency 2` (two jobs at once on this machine), followed by
// `icrl study watch`, then shown, exported and plotted. Every number the CLI prints or writes must
// be the one the server's summary and curves return.
import { execFileSync } from "node:child_process";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import {
  CreateApiKeyDocument,
  RunDetailDocument,
  StudyCurvesDocument,
  StudyDocument,
  StudySummaryDocument,
  WorkersDocument,
} from "../../client-sdk/src/index.js";
import { meanWithHalfWidth, formatPValue } from "../../cli/support/study-table.js";
import { ADMIN_KEY, startTestServer, type TestServer } from "../support/server.js";
import { setupLookup, type LookupSetup } from "../training/support.js";
import { createLookupDemoSet, studyBaseConfig } from "./support.js";
import { cliEnv, runCli, spawnCli, type CliResult } from "../cli/helpers.js";

let t: TestServer;
let dir: string;
let setup: LookupSetup;
let env: NodeJS.ProcessEnv;
let demoSetId: string;

beforeAll(async () => {
  t = await startTestServer();
  dir = await mkdtemp(path.join(os.tmpdir(), "icrl-study-cli-"));
  await chmod(dir, 0o755);
  setup = await setupLookup(t, dir);
  demoSetId = await createLookupDemoSet(t, setup, "lookup-study-cli");
  env = cliEnv(t.server.url, ADMIN_KEY);
}, 120_000);

afterAll(async () => {
  await t?.close();
  await rm(dir, { recursive: true, force: true });
});

function baseConfig() {
  const config = studyBaseConfig(setup, demoSetId);
  delete config.seed; // the study sets it
  return config;
}

async function writeStudyFile(name: string, body: Record<string, unknown>): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, stringify(body));
  return file;
}

const fail = (r: CliResult) => `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

describe("icrl study create validates the file locally", () => {
  it("points a bad arm patch and a bad base at their lines, exit 2, nothing created", async () => {
    const file = path.join(dir, "broken.yaml");
    await writeFile(
      file,
      [
        "experiment: study-cli",
        "name: broken",
        `config: ${JSON.stringify({ ...baseConfig(), grpo: { groupSize: 1, questionsPerStep: 2, lr: 1e-3 } })}`,
        "arms:",
        "  ok: {}",
        "  hot:",
        "    rollout:",
        "      temperature: -3",
        "seeds: [1, 1]",
        "",
      ].join("\n"),
    );
    const r = await runCli(["study", "create", "-f", file], env);
    expect(r.code, fail(r)).toBe(2);
    expect(r.stderr).toContain(`${file}:8:20: arms.hot.rollout.temperature:`);
    // A problem of the base is said once, at the base, not once per arm.
    expect(r.stderr.match(/config\.grpo\.groupSize: .*\(in the base config\)/g)).toHaveLength(1);
    expect(r.stderr).toContain(`${file}:9:1: seeds: seeds must be distinct`);
    expect(r.stderr).toContain("is not a valid study (3 problems)");
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace

    // The base may be a run file: its problems are pointed at in that file.
    const runFile = path.join(dir, "base-run.yaml");
    await writeFile(runFile, stringify({ experiment: "ignored", name: "ignored", config: { ...baseConfig(), lora: { rank: 0, alpha: 16 } } }));
    const lines = (await readFile(runFile, "utf8")).split("\n");
    const rankLine = lines.findIndex((l) => /^\s+rank: 0/.test(l)) + 1;
    const viaBase = await writeStudyFile("via-base.yaml", {
      experiment: "study-cli",
      name: "via-base",
      base: "base-run.yaml",
      arms: { a: {}, b: { grpo: { lr: 2 } } },
      seeds: [1],
    });
    const r2 = await runCli(["study", "create", "-f", viaBase], env);
    expect(r2.code, fail(r2)).toBe(2);
    expect(r2.stderr).toContain(`${runFile}:${rankLine}:`);
    expect(r2.stderr).toContain("config.lora.rank: Too small");
    // --seeds and --arms are checked as the file is: a malformed list is exit 2 with an example.
    const seeds = await runCli(["study", "create", "-f", viaBase, "--seeds", "1,,2"], env);
    expect(seeds.code, fail(seeds)).toBe(2);
    expect(seeds.stderr).toContain("--seeds takes distinct integers separated by commas, e.g. --seeds 1,2,3");
    const arms = await runCli(["study", "create", "-f", file, "--arms", "ok,c"], env);
    expect(arms.code, fail(arms)).toBe(2);
    expect(arms.stderr).toContain('--arms names "c", which the file does not have (its arms: ok, hot)');
    const list = await runCli(["study", "list", "--json"], env);
    expect(JSON.parse(list.stdout)).toEqual([]);
  });
});

describe("a study through the CLI", () => {
  it("is created, run two jobs at a time, watched, shown, exported and plotted with the server's numbers", { timeout: 600_000 }, async () => {
    const file = await writeStudyFile("lr.yaml", {
      experiment: "study-cli",
      name: "lr",
      description: "a larger learning rate",
      config: baseConfig(),
      arms: { base: {}, "high-lr": { grpo: { lr: 1e-2 } } },
      seeds: [3, 4],
    });
    const created = await runCli(["study", "create", "-f", file], env);
    expect(created.code, fail(created)).toBe(0);
    const studyId = created.stdout.trim();
    expect(created.stderr).toContain("2 arms × 2 seeds = 4 runs");

    // Watch from before the first job, while a 2-slot worker process runs the study.
    const watch = runCli(["study", "watch", studyId, "--metric", "reward/mean"], env, { timeoutMs: 540_000 });
    const workerKey = (await t.admin.mutate(CreateApiKeyDocument, { name: "study-cli-worker", role: "WORKER" })).createApiKey.secret;
    const worker = spawnCli(
      [
        "worker",
        "--name",
        "pair",
        "--concurrency",
        "2",
        "--max-jobs",
        "2",
        "--poll-ms",
        "100",
        "--data-dir",
        path.join(dir, "worker"),
        "--allow-path",
        dir,
        "--gpu",
        "cpu",
        "--log-level",
        "warn",
      ],
      { ...env, ICRL_WORKER_KEY: workerKey },
    );
    let workerErr = "";
    worker.stderr!.on("data", (d) => (workerErr += d));
    const workerExit = new Promise<number | null>((resolve) => worker.on("close", resolve));
    const watched = await watch;
    expect(watched.code, fail(watched)).toBe(0);
    expect(await workerExit, workerErr).toBe(0);

    const study = (await t.admin.query(StudyDocument, { id: studyId })).study!;
    expect(study.status).toBe("SUCCEEDED");
    expect(study.runs.map((r) => `${r.arm}/${r.seed}`)).toEqual(["base/3", "base/4", "high-lr/3", "high-lr/4"]);

    // --concurrency 2: two workers from one process, and two runs were in flight at once.
    const workers = (await t.admin.query(WorkersDocument, {})).workers.map((w) => w.name).sort();
    expect(workers).toEqual(["pair-1", "pair-2"]);
    const spans = await Promise.all(
      study.runs.map(async (r) => {
        const run = (await t.admin.query(RunDetailDocument, { id: r.id })).run!;
        return [Date.parse(run.startedAt!), Date.parse(run.finishedAt!)] as const;
      }),
    );
    const overlapping = spans.some(([s1, f1], i) => spans.some(([s2], j) => i !== j && s2 >= s1 && s2 < f1));
    expect(overlapping).toBe(true);

    // The watch ended on the finished study and its final table.
    const summary = (await t.admin.query(StudySummaryDocument, { id: studyId, metric: "reward/mean" })).study!.summary;
    expect(watched.stdout).toContain("4/4 runs finished (4 succeeded, 0 running, 0 queued)");
    for (const arm of summary.arms) expect(watched.stdout).toContain(meanWithHalfWidth(arm.mean, arm.ciLow, arm.ciHigh));

    // show: the table carries the server's numbers; --json is the server's summary itself.
    const shown = await runCli(["study", "show", studyId, "--metric", "reward/mean"], env);
    expect(shown.code, fail(shown)).toBe(0);
    for (const arm of summary.arms) {
      const line = shown.stdout.split("\n").find((l) => l.startsWith(arm.arm))!;
      expect(line).toContain(meanWithHalfWidth(arm.mean, arm.ciLow, arm.ciHigh));
    }
    const diff = summary.differences[0];
    const highLine = shown.stdout.split("\n").find((l) => l.startsWith("high-lr"))!;
    expect(highLine).toContain(formatPValue(diff.pValue));
    expect(shown.stdout).toContain(summary.method);
    const shownJson = await runCli(["study", "show", studyId, "--metric", "reward/mean", "--json"], env);
    expect(JSON.parse(shownJson.stdout).summary).toEqual(summary);

    // export: CSV at full precision.
    const csv = await runCli(["study", "export", studyId, "--format", "csv", "--metric", "reward/mean"], env);
    expect(csv.code, fail(csv)).toBe(0);
    const [header, ...rows] = csv.stdout
      .trim()
      .split("\n")
      .map((l) => l.split(","));
    const col = (row: string[], name: string) => row[header.indexOf(name)];
    expect(rows.map((r) => col(r, "arm"))).toEqual(["base", "high-lr"]);
    for (const [i, arm] of summary.arms.entries()) {
      expect(Number(col(rows[i], "mean"))).toBe(arm.mean);
      expect(Number(col(rows[i], "ci_low"))).toBe(arm.ciLow);
      expect(Number(col(rows[i], "ci_high"))).toBe(arm.ciHigh);
    }
    expect(Number(col(rows[1], "diff_mean"))).toBe(diff.meanDiff);
    expect(col(rows[1], "p_value") === "" ? null : Number(col(rows[1], "p_value"))).toBe(diff.pValue);
    const values = await runCli(["study", "export", studyId, "--table", "values", "--metric", "reward/mean"], env);
    const valueRows = values.stdout.trim().split("\n").slice(1);
    expect(valueRows).toHaveLength(4);
    const exportedJson = await runCli(["study", "export", studyId, "--format", "json", "--metric", "reward/mean"], env);
    expect(JSON.parse(exportedJson.stdout).summary).toEqual(summary);

    // plot: the Vega-Lite spec holds exactly the server's curves; SVG and PNG render from it.
    const curves = (await t.admin.query(StudyCurvesDocument, { id: studyId, metric: "reward/mean" })).study!.curves;
    const specFile = path.join(dir, "fig.vl.json");
    const plotted = await runCli(["study", "plot", studyId, "--metric", "reward/mean", "--out", specFile], env);
    expect(plotted.code, fail(plotted)).toBe(0);
    const spec = JSON.parse(await readFile(specFile, "utf8"));
    const plottedPoints = spec.layer[1].data.values.map((p: { arm: string; step: number; mean: number }) => [p.arm, p.step, p.mean]);
    expect(plottedPoints).toEqual(curves.flatMap((c) => c.points.map((p) => [c.arm, p.step, p.mean])));
    expect(spec.layer[0].data.values.map((p: { ciLow: number; ciHigh: number }) => [p.ciLow, p.ciHigh])).toEqual(
      curves.flatMap((c) => c.points.map((p) => [p.ciLow ?? p.mean, p.ciHigh ?? p.mean])),
    );
    expect(spec.layer[2].data.values).toEqual([{ step: curves[0].stageBoundaries[0].step, label: "stage 2" }]);
    const svgFile = path.join(dir, "fig.svg");
    expect((await runCli(["study", "plot", studyId, "--metric", "reward/mean", "--out", svgFile], env)).code).toBe(0);
    const svg = await readFile(svgFile, "utf8");
    expect(svg.startsWith("<svg")).toBe(true);
    for (const text of ["lr: reward/mean", "base", "high-lr", "stage 2"]) expect(svg).toContain(text);
    const pngFile = path.join(dir, "fig.png");
    expect((await runCli(["study", "plot", studyId, "--metric", "reward/mean", "--out", pngFile], env)).code).toBe(0);
    const png = await readFile(pngFile);
    expect(png.subarray(1, 4).toString()).toBe("PNG");
    expect(png.readUInt32BE(16)).toBeGreaterThan(1000); // width: twice the figure's nominal size

    // Wrong input: one line, documented exit codes.
    const badOut = await runCli(["study", "plot", studyId, "--out", path.join(dir, "fig.jpg")], env);
    expect([badOut.code, badOut.stderr]).toEqual([2, expect.stringContaining("--out must end in .svg, .png or .vl.json")]);
    const missing = await runCli(["study", "show", "no-such-study"], env);
    expect(missing.code).toBe(3);
  });

  it("lists and cancels studies", { timeout: 120_000 }, async () => {
    const file = await writeStudyFile("cancel.yaml", {
      experiment: "study-cli",
      name: "to-cancel",
      config: baseConfig(),
      arms: { a: {} },
      seeds: [1, 2],
    });
    const created = await runCli(["study", "create", "-f", file], env);
    const id = created.stdout.trim();
    const list = await runCli(["study", "list"], env);
    expect(list.stdout).toMatch(/to-cancel\s+study-cli\s+QUEUED\s+1 × 2\s+0\/2/);
    const cancelled = await runCli(["study", "cancel", "to-cancel"], env);
    expect(cancelled.code, fail(cancelled)).toBe(0);
    expect((await t.admin.query(StudyDocument, { id })).study!.status).toBe("CANCELLED");
  });
});

describe("icrl worker --concurrency", () => {
  it("refuses more slots than the machine has cores, with the fix", async () => {
    const cores = Number(execFileSync(process.execPath, ["-e", "process.stdout.write(String(require('os').availableParallelism()))"]));
    const r = await runCli(["worker", "--concurrency", String(cores + 1), "--server", t.server.url, "--token", "x"], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`use --concurrency ${cores} or less`);
  });
});
