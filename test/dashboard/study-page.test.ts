// The study page in headless Chromium against a real server and a real in-process worker: a 2 × 2
// study of the lookup task on the tiny model (3 steps a run). The page is opened before the worker
// starts (an empty state, no chart, no page error) and must follow the study live to its end; then
// its table must say what the API's summary says (written as the page writes numbers), its chart must
// have one line and one band per arm and the stage boundaries of the API's curves, and its run links
// must open the runs. One study run serves every test of the file.
import { chmod, mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CreateApiKeyDocument,
  CreateExperimentDocument,
  CreateStudyDocument,
  StudyCurvesDocument,
  StudyDocument,
  type StudyPoint,
  StudySummaryDocument,
} from "../../client-sdk/src/index.js";
import { fmtNum } from "../../dashboard/src/lib/format.js";
import { PALETTE } from "../../dashboard/src/lib/metrics.js";
import { fmtDifference, fmtInterval, fmtMeanCi, fmtPValue, fmtProgress } from "../../dashboard/src/lib/study-format.js";
import { createLogger } from "../../server/logger.js";
import { Worker } from "../../worker/runtime/worker.js";
import { ADMIN_KEY, startTestServer, type TestServer } from "../support/server.js";
import { setupLookup, type LookupSetup } from "../training/support.js";
import { createLookupDemoSet, studyBaseConfig } from "../studies/support.js";
import { ensureBuilt, launchBrowser, pageErrors, SHOTS } from "./browser.js";

let t: TestServer;
let dir: string;
let setup: LookupSetup;
let browser: Browser;
let studyId: string;
/** The page opened before the worker started; later tests read the finished study from it. */
let live: { page: Page; errors: string[] };

beforeAll(async () => {
  const built = ensureBuilt();
  t = await startTestServer();
  dir = await mkdtemp(path.join(os.tmpdir(), "icrl-study-page-"));
  await chmod(dir, 0o755);
  setup = await setupLookup(t, dir);
  const experimentId = (await t.admin.mutate(CreateExperimentDocument, { name: "studies-ui" })).createExperiment.id;
  const demoSetId = await createLookupDemoSet(t, setup, "lookup-study-ui");
  studyId = (
    await t.admin.mutate(CreateStudyDocument, {
      input: {
        experimentId,
        name: "lr-ui",
        description: "does a larger learning rate help?",
        baseConfig: studyBaseConfig(setup, demoSetId),
        arms: [{ name: "base" }, { name: "high-lr", patch: { grpo: { lr: 1e-2 } } }],
        seeds: [7, 8],
      },
    })
  ).createStudy.id;
  await built;
  await mkdir(SHOTS, { recursive: true });
  browser = await launchBrowser();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await t?.close();
  await rm(dir, { recursive: true, force: true });
});

async function open(hash: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors = pageErrors(page);
  await page.goto(`${t.server.url}/?key=${ADMIN_KEY}#${hash}`);
  return { page, errors };
}

/** The summary table as text, row by row. */
const tableText = (page: Page) =>
  page.locator(".summary-table tbody tr.summary-row").evaluateAll((rows) =>
    rows.map((row) => {
      const cell = (name: string) => row.querySelector(`.cell-${name}`)?.textContent ?? null;
      return {
        arm: row.getAttribute("data-arm"),
        n: cell("n"),
        mean: cell("mean"),
        ci: cell("ci"),
        sd: cell("sd"),
        diff: cell("diff"),
        p: cell("p"),
        seeds: Array.from(row.querySelectorAll(".seed-value")).map((a) => ({
          text: a.textContent,
          href: a.getAttribute("href"),
          final: !a.classList.contains("provisional"),
        })),
      };
    }),
  );

/** The same table, built from the API's own summary with the page's formatting. */
async function expectedTable(metric: string, at: StudyPoint, higherIsBetter = true) {
  const summary = (await t.admin.query(StudySummaryDocument, { id: studyId, metric, at, higherIsBetter })).study!.summary;
  return summary.arms.map((a) => {
    const d = summary.differences.find((x) => x.arm === a.arm);
    return {
      arm: a.arm,
      n: String(a.n),
      mean: fmtMeanCi(a.mean, a.ciLow, a.ciHigh),
      ci: fmtInterval(a.ciLow, a.ciHigh) || "–",
      sd: fmtNum(a.sd),
      diff: a.arm === "base" ? "baseline" : fmtDifference(d!.meanDiff, d!.ciLow, d!.ciHigh),
      p: a.arm === "base" ? "" : fmtPValue(d!.pValue),
      seeds: a.values.map((v) => ({ text: `${v.seed}: ${fmtNum(v.value)}`, href: `#/runs/${v.run.id}`, final: true })),
    };
  });
}

/** Pixels of the study chart's canvas in an arm's colour with an alpha in `alpha`: a line (opaque) or a band (translucent). */
const colourPixels = (page: Page, hex: string, alpha: [number, number]) =>
  page.locator(".study-chart canvas").evaluate(
    (canvas: HTMLCanvasElement, [hex, alpha]) => {
      const want = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
      const { data } = canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height);
      let n = 0;
      for (let i = 0; i < data.length; i += 4)
        if (data[i + 3] >= alpha[0] && data[i + 3] <= alpha[1] && want.every((c, k) => Math.abs(data[i + k] - c) < 40)) n++;
      return n;
    },
    [hex, alpha] as const,
  );

describe("study page", () => {
  it("opened before the worker starts: an empty state, then live until every run succeeded", { timeout: 600_000 }, async () => {
    live = await open(`/studies/${studyId}`);
    const { page, errors } = live;
    await page.locator(".study-header h1", { hasText: "lr-ui" }).waitFor();
    await page.locator(".study-empty", { hasText: "No run has logged a metric yet" }).waitFor();
    expect(await page.locator(".study-header .progress-text").textContent()).toBe(
      fmtProgress({ total: 4, queued: 4, running: 0, succeeded: 0, failed: 0, cancelled: 0 }),
    );
    expect(await page.locator(".study-header .badge").textContent()).toBe("queued");
    expect(await page.locator(".study-header .study-description").textContent()).toBe("does a larger learning rate help?");
    expect(await page.locator(".study-page canvas, .study-page .uplot").count()).toBe(0);
    expect(
      await page
        .locator(".study-runs tr.study-run")
        .evaluateAll((rows) => rows.map((r) => `${r.getAttribute("data-arm")}/${r.getAttribute("data-seed")}`)),
    ).toEqual(["base/7", "base/8", "high-lr/7", "high-lr/8"]);
    await page.screenshot({ path: path.join(SHOTS, "study-before-worker.png"), fullPage: true });

    // Every progress text the page shows from now on, to see it move while the runs train.
    await page.locator(".study-header .progress-text").evaluate((el) => {
      const seen: string[] = [];
      (window as unknown as { progressSeen: string[] }).progressSeen = seen;
      new MutationObserver(() => seen.push(el.textContent ?? "")).observe(el, { childList: true, characterData: true, subtree: true });
    });

    const token = (await t.admin.mutate(CreateApiKeyDocument, { name: "study-ui-worker", role: "WORKER" })).createApiKey.secret;
    const worker = new Worker({
      serverUrl: t.server.url,
      token,
      name: "study-ui-worker",
      threads: 1,
      gpu: false,
      dataDir: path.join(dir, "worker"),
      allowPaths: [dir],
      pollMs: 100,
      maxJobs: 4,
      logger: createLogger({ level: process.env.ICRL_TEST_LOG ?? "silent" }),
    });
    // Each summary fetch the page makes while the study runs: studyUpdated events come several a
    // second, throttled refetches at most one a second from the first, plus at most two when the
    // metric itself changes (none yet -> the first key logged -> val/accuracy once it is logged).
    const summaryFetches: number[] = [];
    page.on("request", (r) => {
      if (r.method() === "POST" && r.postData()?.includes("query StudySummary")) summaryFetches.push(Date.now());
    });
    const started = Date.now();
    const working = worker.run();
    await page.locator('.study-header .study-progress[data-succeeded="4"][data-total="4"]').waitFor({ timeout: 540_000 });
    await working;
    // The last event's trailing refetch, then nothing more: the study is over.
    await page.locator(".study-runs .badge", { hasText: "succeeded" }).nth(3).waitFor();
    const elapsed = Date.now() - started;
    expect(summaryFetches.length).toBeGreaterThanOrEqual(2);
    expect(summaryFetches.length).toBeLessThanOrEqual(Math.floor(elapsed / 1000) + 3);

    expect(await page.locator(".study-header .progress-text").textContent()).toBe("4/4 succeeded");
    await page.locator(".study-header .badge", { hasText: "succeeded" }).waitFor();
    const seen = await page.evaluate(() => (window as unknown as { progressSeen: string[] }).progressSeen);
    // It went through the runs as they ran, not in one jump at the end.
    expect(seen.some((s) => s.includes("1 running"))).toBe(true);
    expect(seen.some((s) => s.startsWith("2/4 succeeded"))).toBe(true);
    // The first metric replaced the empty state with the chart, and the runs list followed.
    expect(await page.locator(".study-empty").count()).toBe(0);
    await page.locator(".study-chart canvas").waitFor();
    expect(errors).toEqual([]);
  });

  it("shows the API's summary for val/accuracy (the default metric), final and best, and for a picked metric", async () => {
    const { page, errors } = live;
    const keys = (await t.admin.query(StudyDocument, { id: studyId })).study!.metricKeys;
    expect(keys).toContain("val/accuracy");
    expect(await page.locator(".metric-select").inputValue()).toBe("val/accuracy");
    expect(await page.locator(".metric-select option").allTextContents()).toEqual(keys);
    await expect.poll(() => tableText(page), { timeout: 15_000 }).toEqual(await expectedTable("val/accuracy", "FINAL"));
    expect(await page.locator(".summary-table").getAttribute("data-at")).toBe("FINAL");

    await page.locator(".point-select").selectOption("BEST");
    await page.locator('.summary-table[data-at="BEST"]').waitFor();
    expect(new URL(page.url()).hash).toBe(`#/studies/${studyId}?at=best`);
    expect(await tableText(page)).toEqual(await expectedTable("val/accuracy", "BEST"));

    await page.locator(".metric-select").selectOption("learner/kl");
    await page.locator('.summary-table[data-metric="learner/kl"][data-at="BEST"]').waitFor();
    expect(await tableText(page)).toEqual(await expectedTable("learner/kl", "BEST"));
    // KL is better low: the reader says so, and best becomes each run's lowest value.
    const lowest = await expectedTable("learner/kl", "BEST", false);
    expect(lowest).not.toEqual(await expectedTable("learner/kl", "BEST"));
    await page.locator(".lower-is-better").check();
    await expect.poll(() => tableText(page), { timeout: 15_000 }).toEqual(lowest);
    expect(await page.locator(".point-says").textContent()).toBe("each run's lowest value");
    expect(new URL(page.url()).hash).toBe(`#/studies/${studyId}?metric=learner%2Fkl&at=best&lower=1`);

    await page.locator(".point-select").selectOption("FINAL");
    await page.locator('.summary-table[data-metric="learner/kl"][data-at="FINAL"]').waitFor();
    expect(await page.locator(".lower-is-better").count()).toBe(0);
    expect(await tableText(page)).toEqual(await expectedTable("learner/kl", "FINAL"));
    expect(new URL(page.url()).hash).toBe(`#/studies/${studyId}?metric=learner%2Fkl`);
    expect(errors).toEqual([]);
  });

  it("charts one mean line and one 95% band per arm, with the API's stage boundaries", async () => {
    const { page, errors } = live;
    const curves = (await t.admin.query(StudyCurvesDocument, { id: studyId, metric: "learner/kl" })).study!.curves;
    expect(curves.map((c) => c.arm)).toEqual(["base", "high-lr"]);
    const steps = [...new Set(curves.flatMap((c) => c.points.map((p) => p.step)))];
    const chart = page.locator('.study-chart .chart[data-title="learner/kl"]');
    await chart.locator("canvas").waitFor();
    expect(await chart.getAttribute("data-points")).toBe(String(steps.length));
    // uPlot's legend: the step, each arm's mean, and each arm's band edges (there only with a band; hidden).
    const legend = await chart
      .locator(".u-legend tr.u-series")
      .evaluateAll((rows) => rows.map((r) => `${getComputedStyle(r).display === "none" ? "hidden:" : ""}${r.querySelector("th")?.textContent}`));
    expect(legend).toEqual([
      "step",
      "hidden:base 95% CI high",
      "hidden:base 95% CI low",
      "base",
      "hidden:high-lr 95% CI high",
      "hidden:high-lr 95% CI low",
      "high-lr",
    ]);
    // Both lines are drawn (the larger learning rate moves the policy further: its KL is far above the
    // base arm's), and the bands are filled in the arms' colours at 15% opacity.
    for (const colour of PALETTE.slice(0, 2)) expect(await colourPixels(page, colour, [200, 255])).toBeGreaterThan(0);
    expect((await colourPixels(page, PALETTE[0], [20, 60])) + (await colourPixels(page, PALETTE[1], [20, 60]))).toBeGreaterThan(0);
    // Hovering each step, the legend reads each arm's mean and band edges: the API's curves, point by point.
    const over = (await chart.locator(".u-over").boundingBox())!;
    const [lo, hi] = [Math.min(...steps), Math.max(...steps)];
    for (const step of steps) {
      const x = over.x + (hi === lo ? over.width / 2 : ((step - lo) / (hi - lo)) * (over.width - 1));
      await page.mouse.move(x, over.y + over.height / 2);
      const fmt = (v: number | null | undefined) => (v == null ? "–" : v.toPrecision(4));
      const expected: Record<string, string> = { step: String(step) };
      for (const c of curves) {
        const p = c.points.find((q) => q.step === step);
        Object.assign(expected, {
          [c.arm]: fmt(p?.mean),
          [`${c.arm} 95% CI high`]: fmt(p?.ciHigh),
          [`${c.arm} 95% CI low`]: fmt(p?.ciLow),
        });
      }
      await expect
        .poll(() =>
          chart
            .locator(".u-legend tr.u-series")
            .evaluateAll((rows) =>
              Object.fromEntries(rows.map((r) => [r.querySelector("th")?.textContent, r.querySelector("td.u-value")?.textContent])),
            ),
        )
        .toEqual(expected);
    }
    await page.mouse.move(0, 0);

    const boundaries = [...new Set(curves.flatMap((c) => c.stageBoundaries.map((b) => b.step)))].sort((a, b) => a - b);
    expect(boundaries.length).toBeGreaterThan(0);
    const marks = chart.locator(".stage-boundary");
    expect(await marks.evaluateAll((els) => els.map((el) => Number(el.getAttribute("data-step"))))).toEqual(boundaries);
    // The base config's curriculum names the stage: stage 1 is zero-shot.
    expect(await marks.locator(".stage-label").allTextContents()).toEqual(boundaries.map(() => "0-shot"));
    await page.screenshot({ path: path.join(SHOTS, "study-page.png"), fullPage: true });
    expect(errors).toEqual([]);
  });

  it("links each run to its run page, which links back to the study", async () => {
    const { page, errors } = await open(`/studies/${studyId}`);
    const study = (await t.admin.query(StudyDocument, { id: studyId })).study!;
    const rows = page.locator(".study-runs tr.study-run");
    await rows.nth(3).waitFor();
    expect(await rows.evaluateAll((els) => els.map((el) => [el.getAttribute("data-run-id"), el.querySelector(".run-step")?.textContent]))).toEqual(
      study.runs.map((r) => [r.id, String(r.step)]),
    );
    const target = study.runs[2];
    await rows.nth(2).locator("a.run-link").click();
    await page.locator(".run-header h1", { hasText: target.name }).waitFor();
    expect(new URL(page.url()).hash).toBe(`#/runs/${target.id}`);
    const back = page.locator(".run-header .run-study");
    expect(await back.textContent()).toBe(`study lr-ui · arm ${target.arm} · seed ${target.seed}`);
    await back.locator("a").click();
    await page.locator(".study-header h1", { hasText: "lr-ui" }).waitFor();
    expect(new URL(page.url()).hash).toBe(`#/studies/${studyId}`);
    expect(errors).toEqual([]);
    await page.close();
  });
});
