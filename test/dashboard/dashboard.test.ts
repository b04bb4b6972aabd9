// The dashboard in a real headless Chromium against a real server: a worker reports rollouts,
// metrics and benchmark items through the API, and the pages must show them, live where promised.
import { mkdir, mkdtemp } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import express from "express";
import type { Browser, Page } from "playwright-core";
import {
  ClaimJobDocument,
  CompleteJobDocument,
  CreateApiKeyDocument,
  CreateExperimentDocument,
  CreateRunDocument,
  ImportDatasetDocument,
  LogMetricsDocument,
  RegisterWorkerDocument,
  ReportBenchmarkItemsDocument,
  ReportRolloutsDocument,
  ReportRunProgressDocument,
  StartBenchmarkRunDocument,
  type IcrlClient,
  type MetricPointInput,
} from "../../client-sdk/src/index.js";
import { dashboardRouter } from "../../server/http/app.js";
import { ADMIN_KEY, startTestServer, type TestServer } from "../support/server.js";
import { makeRollout, writeQaJsonl } from "../support/fixtures.js";
import { ensureBuilt, launchBrowser, SHOTS } from "./browser.js";

let t: TestServer;
let worker: IcrlClient;
let browser: Browser;
let page: Page;
let runId: string;
let trainJob: string;

const series = (key: string, values: number[], from = 0): MetricPointInput[] => values.map((value, i) => ({ key, step: from + i, value }));

beforeAll(async () => {
  const built = ensureBuilt();
  // Long leases: on a busy machine the browser steps can outlast the default 60 s lease.
  t = await startTestServer({ leaseSeconds: 600 });
  const tmp = await mkdtemp(path.join(os.tmpdir(), "icrl-dash-"));
  await writeQaJsonl(path.join(tmp, "qa.jsonl"), 4);
  const ds = await t.admin.mutate(ImportDatasetDocument, {
    input: { name: "hotpotqa-mini", kind: "QA", format: "JSONL", path: path.join(tmp, "qa.jsonl") },
  });
  // Scale for the runs list: 1,000 older runs in another experiment, written straight to the table
  // (half of them finished) so the fixture costs one statement instead of 1,000 API calls.
  const sweep = await t.admin.mutate(CreateExperimentDocument, { name: "lr-sweep" });
  await t.server.services.pool.query(
    `INSERT INTO runs (experiment_id, name, config, seed, status, step, created_at)
     SELECT $1, 'sweep-' || i, '{}'::jsonb, i, CASE WHEN i % 2 = 0 THEN 'SUCCEEDED' ELSE 'QUEUED' END::"RunStatus", i % 300,
       now() - make_interval(mins => i)
     FROM generate_series(1, 1000) AS i`,
    [sweep.createExperiment.id],
  );
  const exp = await t.admin.mutate(CreateExperimentDocument, { name: "icrl-search" });
  const run = await t.admin.mutate(CreateRunDocument, {
    experimentId: exp.createExperiment.id,
    name: "qwen-3b-curriculum",
    config: {
      model: { path: "/models/qwen2.5-3b-instruct.gguf" },
      dataset: { id: ds.importDataset.id },
      curriculum: { stages: [{ shots: 3, steps: 3 }, { shots: 2, steps: 3 }, { shots: 0 }] },
      maxSteps: 6,
    },
  });
  runId = run.createRun.id;
  const baseline = await t.admin.mutate(CreateRunDocument, {
    experimentId: exp.createExperiment.id,
    name: "qwen-3b-zero-shot",
    config: { model: { path: "/models/qwen2.5-3b-instruct.gguf" }, dataset: { id: ds.importDataset.id } },
  });
  await t.admin.mutate(StartBenchmarkRunDocument, {
    input: { name: "base-hotpot", datasetId: ds.importDataset.id, model: "/models/qwen2.5-3b-instruct.gguf", config: { limit: 3 } },
  });

  const reg = (await t.admin.mutate(CreateApiKeyDocument, { name: "reg", role: "WORKER" })).createApiKey.secret;
  worker = t.client((await t.client(reg).mutate(RegisterWorkerDocument, { name: "w", capabilities: { backend: "cpu" } })).registerWorker.token);
  trainJob = (await worker.mutate(ClaimJobDocument, { kinds: ["TRAIN"] })).claimJob!.job.id;
  const baselineJob = (await worker.mutate(ClaimJobDocument, { kinds: ["TRAIN"] })).claimJob!;
  expect(baselineJob.job.run?.id).toBe(baseline.createRun.id);
  await worker.mutate(LogMetricsDocument, { jobId: baselineJob.job.id, points: series("reward/mean", [0.05, 0.1, 0.12, 0.1, 0.15, 0.2, 0.18], 0) });
  await worker.mutate(ReportRunProgressDocument, { jobId: trainJob, progress: { step: 4, stage: 1, shots: 2 } });
  await worker.mutate(ReportRolloutsDocument, {
    jobId: trainJob,
    rollouts: [0, 1, 2, 3, 4].flatMap((step) => [0, 1, 2, 3].map((i) => makeRollout(step, 0, i, 600))),
  });
  await worker.mutate(LogMetricsDocument, {
    jobId: trainJob,
    points: [
      ...series("reward/mean", [0.1, 0.2, 0.35, 0.3, 0.5]),
      ...series("accuracy/mean", [0.05, 0.1, 0.2, 0.25, 0.4]),
      ...series("tools/valid_calls_per_rollout", [0.2, 0.5, 0.9, 1.1, 1.3]),
      ...series("response/tokens_mean", [210, 260, 300, 280, 320]),
      ...series("learner/kl", [0, 0.001, 0.003, 0.004, 0.006]),
      ...series("learner/grad_norm", [0.8, 0.7, 0.9, 0.6, 0.5]),
      ...series("curriculum/stage", [0, 0, 0, 1, 1]),
      ...series("curriculum/shots", [3, 3, 3, 2, 2]),
    ],
  });

  // A long series, charted downsampled: one spike must survive as its bucket's max.
  const entropy = Array.from({ length: 3000 }, (_, i) => (i === 1234 ? 9 : 1 + 0.1 * Math.sin(i / 50)));
  for (let from = 0; from < entropy.length; from += 1000) {
    await worker.mutate(LogMetricsDocument, { jobId: trainJob, points: series("learner/entropy", entropy.slice(from, from + 1000), from) });
  }

  const evalJob = (await worker.mutate(ClaimJobDocument, { kinds: ["EVAL"] })).claimJob!.job.id;
  await worker.mutate(ReportBenchmarkItemsDocument, {
    jobId: evalJob,
    items: [0, 1, 2].map((i) => ({
      itemIndex: i,
      itemId: `item-${i}`,
      question: `What is item number ${i}?`,
      prediction: i === 2 ? "no idea" : `answer ${i}`,
      golds: [`answer ${i}`],
      score: i === 2 ? 0 : 1,
      trajectory: [
        { kind: "MODEL" as const, text: `<think>look it up</think><search>item ${i}</search>` },
        { kind: "TOOL_CALL" as const, text: `item number ${i}` },
        { kind: "TOOL_RESULT" as const, text: `<information>Doc 1(Title: Item ${i}) answer ${i}</information>` },
        { kind: "MODEL" as const, text: `<answer>${i === 2 ? "no idea" : `answer ${i}`}</answer>` },
      ],
    })),
  });
  await worker.mutate(CompleteJobDocument, { jobId: evalJob, result: { aggregate: { em: 2 / 3, f1: 0.7 } } });

  await built;
  await mkdir(SHOTS, { recursive: true });
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
});

afterAll(async () => {
  await browser?.close();
  await t?.close();
});

const text = (selector: string, hasText: string | RegExp) => page.locator(selector, { hasText }).first();

describe("dashboard", () => {
  it("serves the app with a client-route fallback, 404s for missing assets, and leaves the API alone", async () => {
    const index = await fetch(`${t.server.url}/runs/some/client/route`);
    expect(index.status).toBe(200);
    expect(await index.text()).toContain('<script type="module" src="/app.js">');
    expect((await fetch(`${t.server.url}/missing-asset.js`)).status).toBe(404);
    expect(await (await fetch(`${t.server.url}/healthz`)).json()).toEqual({ status: "ok" });
  });

  it("says how to build the dashboard when it is not built", async () => {
    const empty = await mkdtemp(path.join(os.tmpdir(), "icrl-no-dist-"));
    const server = express().use(dashboardRouter(empty)).listen(0, "127.0.0.1");
    await new Promise((r) => server.once("listening", r));
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/runs`);
      expect(res.status).toBe(503);
      expect(await res.text()).toContain("npm run build:dashboard");
    } finally {
      server.close();
    }
  });

  it("asks for a key, and a ?key= link signs in once and leaves the address bar", async () => {
    const fresh = await browser.newPage();
    await fresh.goto(`${t.server.url}/`);
    await fresh.locator("form input[name=key]").fill("icrl_not_a_real_key_000000000000");
    await fresh.locator("form button[type=submit]").click();
    await fresh.locator("form .error").waitFor();
    await fresh.close();

    await page.goto(`${t.server.url}/?key=${ADMIN_KEY}#/runs`);
    await text(".runs-table tbody tr", "qwen-3b-curriculum").waitFor();
    expect(page.url()).not.toContain("key=");
    expect(await page.evaluate(() => localStorage.getItem("icrl.apiKey"))).toBe(ADMIN_KEY);
    const row = text(".runs-table tbody tr", "qwen-3b-curriculum");
    expect(await row.textContent()).toMatch(/running.*icrl-search.*1 · 2-shot.*4.*0\.500.*0\.400/);
    await page.screenshot({ path: path.join(SHOTS, "runs-list.png"), fullPage: true });
  });

  it("pages through 1,002 runs 50 at a time and filters by status and experiment", async () => {
    const rows = page.locator(".runs-table tbody tr");
    const pager = page.locator(".pager .muted");
    expect(await pager.textContent()).toBe("1–50 of 1002");
    expect(await rows.count()).toBe(50);
    await page.locator(".pager button", { hasText: "Next" }).click();
    await text(".pager .muted", "51–100 of 1002").waitFor();
    // The pager's text can change a render before the rows do: wait for page 2's first row itself.
    await rows.first().filter({ hasText: "sweep-49" }).waitFor();
    expect(await rows.count()).toBe(50);
    expect(await rows.first().textContent()).toContain("sweep-49");
    await page.locator(".pager button", { hasText: "Prev" }).click();
    await text(".runs-table tbody tr", "qwen-3b-curriculum").waitFor();

    await page.locator(".filters select").nth(1).selectOption("SUCCEEDED");
    await text(".pager .muted", "of 500").waitFor();
    expect(page.url()).toContain("status=SUCCEEDED");
    await page.locator(".filters select").nth(1).selectOption("");
    await page.locator(".filters select").first().selectOption({ label: "icrl-search" });
    await text(".pager .muted", "1–2 of 2").waitFor();
    expect(await rows.count()).toBe(2);
  });

  it("shows the run's charts with stage boundaries and updates them live", async () => {
    await page.locator(".runs-table a", { hasText: "qwen-3b-curriculum" }).click();
    await page.locator('.chart[data-title="reward/mean"][data-points="5"]').waitFor();
    await page.locator('.chart[data-title="learner/grad_norm"][data-points="5"]').waitFor();
    const boundary = page.locator('.chart[data-title="reward/mean"] .stage-boundary:not(.initial)');
    await boundary.waitFor();
    expect(await boundary.getAttribute("data-step")).toBe("3");
    expect(await boundary.textContent()).toBe("2-shot");
    const entropy = page.locator('.chart[data-title="learner/entropy"]');
    await text('.chart[data-title="learner/entropy"] .chart-note', "bucket min–max shaded").waitFor();
    expect(Number(await entropy.getAttribute("data-points"))).toBeLessThan(1000);
    // The spike (9) is kept as its bucket's max although no bucket mean comes near it.
    expect(await entropy.locator(".chart-note").textContent()).toContain("… 9");
    const latestReward = page.locator('.latest-metric[data-key="reward/mean"] .latest-value');
    expect(await latestReward.textContent()).toBe("0.500");

    // The worker moves on: a new step and the 0-shot stage, with no reload.
    await worker.mutate(LogMetricsDocument, {
      jobId: trainJob,
      points: [
        { key: "reward/mean", step: 5, value: 0.987 },
        { key: "curriculum/stage", step: 5, value: 2 },
        { key: "curriculum/shots", step: 5, value: 0 },
      ],
    });
    await text(".latest-metric[data-key='reward/mean'] .latest-value", "0.987").waitFor({ timeout: 10_000 });
    await page.locator('.chart[data-title="reward/mean"][data-points="6"]').waitFor({ timeout: 10_000 });
    await text('.chart[data-title="reward/mean"] .stage-label', "0-shot").waitFor({ timeout: 10_000 });
    await worker.mutate(ReportRunProgressDocument, { jobId: trainJob, progress: { step: 5, stage: 2, shots: 0 } });
    await text(".run-header .run-shots", "0-shot").waitFor({ timeout: 10_000 });
    expect(await page.locator(".run-header .run-step").textContent()).toBe("5");
    await page.screenshot({ path: path.join(SHOTS, "run-charts.png"), fullPage: true });
  });

  it("shows a step's GRPO group with styled segments, filters, and rollouts arriving live", async () => {
    await page.locator(".tabs a", { hasText: "Rollouts" }).click();
    // Following the latest step (5) shows nothing yet; step 4 has the reported group.
    await text(".rollout-viewer .muted", "0 of 0 rollouts at step 5").waitFor();
    await page.locator(".step-picker button", { hasText: "←" }).click();
    const cards = page.locator(".group[data-group='0'] .rollout-card");
    await cards.nth(3).waitFor();
    expect(await cards.count()).toBe(4);
    const toolCall = cards.first().locator('.segment[data-kind="TOOL_CALL"]');
    expect(await toolCall.textContent()).toContain("founding date");
    expect(await toolCall.evaluate((el) => getComputedStyle(el).backgroundColor)).not.toBe(
      await cards
        .first()
        .locator('.segment[data-kind="MODEL"]')
        .first()
        .evaluate((el) => getComputedStyle(el).backgroundColor),
    );
    expect(await cards.first().locator('.segment[data-kind="TOOL_RESULT"]').count()).toBe(1);
    await page.screenshot({ path: path.join(SHOTS, "rollout-group.png"), fullPage: false });

    // has-tool-call filter: makeRollout gives samples 0 and 3 no tool call.
    await page.locator(".rollout-controls select").selectOption("yes");
    await page.waitForFunction(() => document.querySelectorAll(".group[data-group='0'] .rollout-card").length === 2);
    await page.locator(".rollout-controls select").selectOption("");
    await page.waitForFunction(() => document.querySelectorAll(".group[data-group='0'] .rollout-card").length === 4);

    // Back to following the latest step; the worker reports step 5 and it appears without reload.
    await page.locator(".follow input").check();
    await text(".rollout-viewer .muted", "rollouts at step 5").waitFor();
    const live = {
      ...makeRollout(5, 1, 0, 400),
      segments: [
        { kind: "MODEL" as const, text: "<think>need data</think>" },
        { kind: "TOOL_CALL" as const, text: "capital of australia" },
        { kind: "TOOL_RESULT" as const, text: "<information>Canberra</information>" },
        { kind: "MODEL" as const, text: "<answer>Canberra</answer>" },
      ],
    };
    await worker.mutate(ReportRolloutsDocument, { jobId: trainJob, rollouts: [live] });
    await text(".group[data-group='1'] .segment[data-kind='TOOL_CALL']", "capital of australia").waitFor({ timeout: 10_000 });
    await page.screenshot({ path: path.join(SHOTS, "rollouts.png"), fullPage: false });
  });

  it("shows the paper-style benchmark table and drills down to an item's trajectory", async () => {
    await page.locator(".topbar a", { hasText: "Benchmarks" }).click();
    const row = text(".bench-table .bench-row", "qwen2.5-3b-instruct.gguf (base)");
    await row.waitFor();
    expect(await page.locator(".bench-table thead th").allTextContents()).toEqual(["Model", "hotpotqa-mini", "Avg"]);
    expect(await row.locator("td").allTextContents()).toEqual(["66.7", "66.7"]);
    await page.screenshot({ path: path.join(SHOTS, "benchmarks.png"), fullPage: true });

    await row.locator("a").click();
    const wrong = text(".items-table .item-row", "no idea");
    await wrong.waitFor();
    expect(await page.locator(".items-table .item-row").count()).toBe(3);
    await wrong.click();
    await text(".item-detail .segment[data-kind='TOOL_CALL']", "item number 2").waitFor();
  });

  it("overlays two runs' metrics on one chart per metric", async () => {
    await page.goto(`${t.server.url}/#/compare?runs=${runId}`);
    await page.locator('.chart[data-title="reward/mean"][data-points="6"]').waitFor();
    await page.locator(".compare-picker select").selectOption({ label: "qwen-3b-zero-shot · icrl-search · running" });
    await page.locator(".run-chip").nth(1).waitFor();
    expect(decodeURIComponent(page.url())).toMatch(new RegExp(`runs=${runId},[0-9a-f-]{36}$`));
    // Steps 0-5 and 0-6 on one axis, one legend entry per run.
    const chart = page.locator('.chart[data-title="reward/mean"][data-points="7"]');
    await chart.waitFor();
    expect(await chart.locator(".u-legend .u-series th").allTextContents()).toEqual(["step", "qwen-3b-curriculum", "qwen-3b-zero-shot"]);
    await page.screenshot({ path: path.join(SHOTS, "compare.png"), fullPage: false });
  });
});
