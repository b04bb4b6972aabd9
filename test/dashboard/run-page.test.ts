// The run page as users met it: opened before the first metric (the demo prints its URL before step
// 1), on a failed run that never logged anything, on a run whose headline is val/accuracy and that
// logs keys of its own, and reading rollouts against their dataset's questions and gold answers.
import { mkdir, mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import {
  ClaimJobDocument,
  CreateApiKeyDocument,
  CreateExperimentDocument,
  CreateRunDocument,
  FailJobDocument,
  ImportDatasetDocument,
  LogMetricsDocument,
  RegisterWorkerDocument,
  ReportRolloutsDocument,
  RolloutsDocument,
  type IcrlClient,
} from "../../client-sdk/src/index.js";
import { ADMIN_KEY, startTestServer, type TestServer } from "../support/server.js";
import { makeRollout, writeQaJsonl } from "../support/fixtures.js";
import { ensureBuilt, launchBrowser, pageErrors, SHOTS } from "./browser.js";

let t: TestServer;
let worker: IcrlClient;
let browser: Browser;
const runs: Record<"live" | "failed" | "keys", { id: string; job: string }> = {} as never;

beforeAll(async () => {
  const built = ensureBuilt();
  t = await startTestServer({ leaseSeconds: 600 });
  const tmp = await mkdtemp(path.join(os.tmpdir(), "icrl-run-page-"));
  await writeQaJsonl(path.join(tmp, "qa.jsonl"), 4);
  const ds = await t.admin.mutate(ImportDatasetDocument, {
    input: { name: "qa-mini", kind: "QA", format: "JSONL", path: path.join(tmp, "qa.jsonl") },
  });
  const exp = await t.admin.mutate(CreateExperimentDocument, { name: "run-page" });
  const reg = (await t.admin.mutate(CreateApiKeyDocument, { name: "reg", role: "WORKER" })).createApiKey.secret;
  worker = t.client((await t.client(reg).mutate(RegisterWorkerDocument, { name: "w", capabilities: { backend: "cpu" } })).registerWorker.token);
  // Jobs are claimed in the order their runs were created, so each claim is made right after its run.
  for (const name of ["live", "failed", "keys"] as const) {
    const run = await t.admin.mutate(CreateRunDocument, {
      experimentId: exp.createExperiment.id,
      name: `${name}-run`,
      config: { model: { path: "/models/qwen2.5-3b-instruct.gguf" }, dataset: { id: ds.importDataset.id } },
    });
    const claimed = (await worker.mutate(ClaimJobDocument, { kinds: ["TRAIN"] })).claimJob!;
    expect(claimed.job.run?.id).toBe(run.createRun.id);
    runs[name] = { id: run.createRun.id, job: claimed.job.id };
  }
  await worker.mutate(FailJobDocument, { jobId: runs.failed.job, error: "CUDA out of memory", retry: false });

  await worker.mutate(LogMetricsDocument, {
    jobId: runs.keys.job,
    points: [0, 1, 2].flatMap((step) => [
      { key: "reward/mean", step, value: 0.1 * step },
      { key: "accuracy/mean", step, value: 0.05 * step },
      { key: "val/accuracy", step, value: 0.2 + 0.1 * step },
      { key: "loss", step, value: 2 - 0.5 * step },
      { key: "time/step_s", step, value: 3 + step },
    ]),
  });
  const answered = (sampleIndex: number, answer: string, accuracy: number) => ({
    ...makeRollout(0, 0, sampleIndex, 200),
    questionId: "item-1",
    segments: [
      { kind: "MODEL" as const, text: "<think>look it up</think><search>item 1</search>" },
      { kind: "TOOL_RESULT" as const, text: "<information>Doc 1(Title: Item 1) answer 1</information>" },
      { kind: "MODEL" as const, text: `<think>found it</think><answer> ${answer} </answer>` },
    ],
    reward: accuracy,
    rewardComponents: { accuracy, format: 1 },
  });
  await worker.mutate(ReportRolloutsDocument, {
    jobId: runs.keys.job,
    // Group 1 answers a question the dataset does not hold (e.g. a demonstration): it must still show.
    rollouts: [answered(0, "answer 1", 1), answered(1, "item two", 0), { ...makeRollout(0, 1, 0, 200), questionId: "not-in-dataset" }],
  });

  await built;
  await mkdir(SHOTS, { recursive: true });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await t?.close();
});

async function openRun(runId: string, tab = ""): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors = pageErrors(page);
  await page.goto(`${t.server.url}/?key=${ADMIN_KEY}#/runs/${runId}${tab}`);
  return { page, errors };
}

const chart = (page: Page, key: string) => page.locator(`.chart[data-title="${key}"]`);

/** Pixels of a chart's canvas in its line colour (#2563eb): proof that uPlot drew the series. */
const linePixels = (page: Page, key: string) =>
  chart(page, key)
    .locator("canvas")
    .evaluate((canvas: HTMLCanvasElement) => {
      const { data } = canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height);
      let n = 0;
      for (let i = 0; i < data.length; i += 4) if (data[i + 3] > 200 && data[i] < 120 && data[i + 1] < 160 && data[i + 2] > 180) n++;
      return n;
    });

describe("run page", () => {
  it("draws charts from the first live metric when opened before any, without a page error", async () => {
    const { page, errors } = await openRun(runs.live.id);
    const reward = chart(page, "reward/mean");
    await reward.waitFor();

    await worker.mutate(LogMetricsDocument, {
      jobId: runs.live.job,
      points: [
        { key: "reward/mean", step: 0, value: 0.1 },
        { key: "val/accuracy", step: 0, value: 0.3 },
      ],
    });
    await page.locator('.chart[data-title="reward/mean"][data-points="1"] canvas').waitFor({ timeout: 10_000 });
    await worker.mutate(LogMetricsDocument, { jobId: runs.live.job, points: [{ key: "reward/mean", step: 1, value: 0.2 }] });
    await page.locator('.chart[data-title="reward/mean"][data-points="2"] canvas').waitFor({ timeout: 10_000 });
    expect(await reward.locator(".u-legend .u-series th").allTextContents()).toEqual(["step", "reward/mean"]);
    expect(await linePixels(page, "reward/mean")).toBeGreaterThan(0);
    expect(errors).toEqual([]);
    // The headline's first point makes its chart too.
    await page.locator('.chart[data-title="val/accuracy"][data-points="1"] canvas').waitFor({ timeout: 10_000 });
    // Charts of keys still without data say so.
    expect(await reward.locator(".chart-empty").count()).toBe(0);
    await chart(page, "accuracy/mean").locator(".chart-empty", { hasText: "no data yet" }).waitFor();
    await page.close();
  });

  it("shows a failed run's charts as empty states, not broken frames", async () => {
    const { page, errors } = await openRun(runs.failed.id);
    // Why it failed, said as such (the job's own error, as the worker reported it).
    await page.locator(".run-header .run-failure", { hasText: "Failed because: CUDA out of memory" }).waitFor();
    const charts = page.locator(".chart");
    await chart(page, "reward/mean").locator(".chart-empty").waitFor();
    const count = await charts.count();
    expect(count).toBeGreaterThan(0);
    // The run has stopped: its empty charts will stay empty, and say so.
    expect(await page.locator(".chart .chart-empty", { hasText: "no data logged" }).count()).toBe(count);
    expect(await page.locator(".chart canvas, .chart .uplot").count()).toBe(0);
    expect(errors).toEqual([]);
    await page.screenshot({ path: path.join(SHOTS, "run-failed-empty.png"), fullPage: false });
    await page.close();
  });

  it("charts val/accuracy first, then every key the run logged, and any key can be picked", async () => {
    const { page, errors } = await openRun(runs.keys.id);
    await page.locator('.chart[data-title="loss"][data-points="3"] canvas').waitFor();
    const titles = await page.locator(".chart").evaluateAll((els) => els.map((el) => el.getAttribute("data-title")));
    expect(titles.slice(0, 3)).toEqual(["val/accuracy", "reward/mean", "accuracy/mean"]);
    await page.locator('.chart[data-title="val/accuracy"][data-points="3"] canvas').waitFor();
    expect(await page.locator('.latest-metric[data-key="val/accuracy"] .latest-value').textContent()).toBe("0.400");

    // Timings are off by default and one click away; every key the run has is in the picker.
    const picker = page.locator(".metric-picker");
    const offered = await picker.locator("input[type=checkbox]").evaluateAll((els) => els.map((el) => (el as HTMLInputElement).value));
    expect(offered).toEqual(expect.arrayContaining(["val/accuracy", "reward/mean", "accuracy/mean", "loss", "time/step_s"]));
    expect(await chart(page, "time/step_s").count()).toBe(0);
    await picker.locator("summary").click();
    await picker.locator('input[value="time/step_s"]').check();
    await page.locator('.chart[data-title="time/step_s"][data-points="3"] canvas').waitFor();
    await page.screenshot({ path: path.join(SHOTS, "run-metric-picker.png"), fullPage: false });
    await picker.locator('input[value="loss"]').uncheck();
    await chart(page, "loss").waitFor({ state: "detached" });
    expect(errors).toEqual([]);
    await page.close();
  });

  it("shows each group's question and gold answers, and each rollout's answer with its score", async () => {
    const api = (await t.admin.query(RolloutsDocument, { runId: runs.keys.id, first: 10 })).rollouts.nodes;
    expect(api.map((r) => r.datasetItem)).toEqual([
      { externalId: "item-1", question: "What is item number 1?", golds: ["answer 1", "1"] },
      { externalId: "item-1", question: "What is item number 1?", golds: ["answer 1", "1"] },
      null,
    ]);

    const { page, errors } = await openRun(runs.keys.id, "/rollouts");
    const group = page.locator(".group[data-group='0']");
    await group.locator(".question-text", { hasText: "What is item number 1?" }).waitFor();
    expect(await group.locator(".golds .gold").allTextContents()).toEqual(["answer 1", "1"]);
    const cards = group.locator(".rollout-card");
    expect(await cards.count()).toBe(2);
    expect(await cards.nth(0).locator(".answer-text").textContent()).toBe("answer 1");
    expect(await cards.nth(0).locator(".answer").getAttribute("data-correct")).toBe("true");
    expect(await cards.nth(0).locator(".answer-score").textContent()).toContain("1");
    expect(await cards.nth(1).locator(".answer-text").textContent()).toBe("item two");
    expect(await cards.nth(1).locator(".answer").getAttribute("data-correct")).toBe("false");
    // A question the run's dataset does not hold falls back to its id.
    const other = page.locator(".group[data-group='1']");
    await other.locator(".question-id", { hasText: "not-in-dataset" }).waitFor();
    expect(await other.locator(".question-text").count()).toBe(0);
    expect(errors).toEqual([]);
    await page.screenshot({ path: path.join(SHOTS, "rollout-question.png"), fullPage: false });
    await page.close();
  });
});
