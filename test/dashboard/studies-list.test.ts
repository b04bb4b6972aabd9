// The studies list in headless Chromium against a real server: every study with its experiment,
// shape (arms × seeds), status and progress, filtered by experiment, reachable from the navigation
// and from an experiment's runs, and opening a study's page. No worker: a fresh study stays queued,
// a cancelled one shows its cancelled runs.
import { mkdir, mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CancelStudyDocument, CreateExperimentDocument, CreateStudyDocument, ImportDatasetDocument } from "../../client-sdk/src/index.js";
import { fmtProgress } from "../../dashboard/src/lib/study-format.js";
import { writeQaJsonl } from "../support/fixtures.js";
import { ADMIN_KEY, startTestServer, type TestServer } from "../support/server.js";
import { ensureBuilt, launchBrowser, pageErrors, SHOTS } from "./browser.js";

let t: TestServer;
let browser: Browser;
const ids = { search: "", vision: "", sweep: "", kl: "" };

beforeAll(async () => {
  const built = ensureBuilt();
  t = await startTestServer();
  const tmp = await mkdtemp(path.join(os.tmpdir(), "icrl-studies-list-"));
  await writeQaJsonl(path.join(tmp, "qa.jsonl"), 4);
  const ds = await t.admin.mutate(ImportDatasetDocument, {
    input: { name: "qa-mini", kind: "QA", format: "JSONL", path: path.join(tmp, "qa.jsonl") },
  });
  const baseConfig = { model: { path: "/models/qwen2.5-3b-instruct.gguf" }, dataset: { id: ds.importDataset.id } };
  ids.search = (await t.admin.mutate(CreateExperimentDocument, { name: "search" })).createExperiment.id;
  ids.vision = (await t.admin.mutate(CreateExperimentDocument, { name: "vision" })).createExperiment.id;
  ids.sweep = (
    await t.admin.mutate(CreateStudyDocument, {
      input: {
        experimentId: ids.search,
        name: "lr-sweep",
        description: "does a larger learning rate help?",
        baseConfig,
        arms: [{ name: "base" }, { name: "high-lr", patch: { grpo: { lr: 1e-2 } } }],
        seeds: [1, 2, 3],
      },
    })
  ).createStudy.id;
  ids.kl = (
    await t.admin.mutate(CreateStudyDocument, {
      input: {
        experimentId: ids.vision,
        name: "kl",
        baseConfig,
        arms: [{ name: "a" }, { name: "b" }, { name: "c" }],
        seeds: [5],
      },
    })
  ).createStudy.id;
  await t.admin.mutate(CancelStudyDocument, { id: ids.kl });
  await built;
  await mkdir(SHOTS, { recursive: true });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await t?.close();
});

async function open(hash: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const errors = pageErrors(page);
  await page.goto(`${t.server.url}/?key=${ADMIN_KEY}#${hash}`);
  return { page, errors };
}

const cells = (page: Page, studyId: string) =>
  page.locator(`.studies-table tr[data-study-id="${studyId}"]`).evaluate((row) => ({
    name: row.querySelector(".study-name")?.textContent,
    description: row.querySelector(".study-description")?.textContent ?? null,
    experiment: row.querySelector(".study-experiment")?.textContent,
    shape: row.querySelector(".study-shape")?.textContent,
    status: row.querySelector(".badge")?.textContent,
    progress: row.querySelector(".progress-text")?.textContent,
    created: row.querySelector("td:last-child")?.textContent,
  }));

describe("studies list", () => {
  it("lists every study, newest first, with experiment, arms × seeds, status and progress; linked from the navigation", async () => {
    const { page, errors } = await open("/runs");
    await page.locator(".topbar a", { hasText: "Studies" }).click();
    await page.locator(".studies-table tbody tr[data-study-id]").nth(1).waitFor();
    expect(page.url()).toMatch(/#\/studies$/);
    expect(await page.locator(".topbar a.active").textContent()).toBe("Studies");
    const rows = await page.locator(".studies-table tbody tr[data-study-id]").evaluateAll((els) => els.map((el) => el.getAttribute("data-study-id")));
    expect(rows).toEqual([ids.kl, ids.sweep]);
    expect(await cells(page, ids.sweep)).toEqual({
      name: "lr-sweep",
      description: "does a larger learning rate help?",
      experiment: "search",
      shape: "2 × 3",
      status: "queued",
      progress: fmtProgress({ total: 6, queued: 6, running: 0, succeeded: 0, failed: 0, cancelled: 0 }),
      created: "just now",
    });
    expect(await cells(page, ids.kl)).toMatchObject({ name: "kl", description: null, experiment: "vision", shape: "3 × 1", status: "cancelled" });
    // Written out once, so a change to the wording is a deliberate one.
    expect((await cells(page, ids.kl)).progress).toBe("0/3 succeeded · 3 cancelled");
    expect(await page.locator(`tr[data-study-id="${ids.kl}"] .study-progress`).getAttribute("data-total")).toBe("3");
    await page.screenshot({ path: path.join(SHOTS, "studies-list.png"), fullPage: false });
    expect(errors).toEqual([]);
    await page.close();
  });

  it("filters by experiment, and an experiment's runs link to its studies", async () => {
    const { page, errors } = await open(`/runs?experiment=${ids.search}`);
    await page.locator("a.experiment-studies").click();
    await page.locator(`.studies-table tr[data-study-id="${ids.sweep}"]`).waitFor();
    expect(await page.locator(".studies-table tbody tr[data-study-id]").count()).toBe(1);
    expect(new URL(page.url()).hash).toBe(`#/studies?experiment=${ids.search}`);

    // The select switches experiments; an experiment without studies says so.
    await page.locator(".filters select").selectOption(ids.vision);
    await page.locator(`.studies-table tr[data-study-id="${ids.kl}"]`).waitFor();
    expect(await page.locator(".studies-table tbody tr[data-study-id]").count()).toBe(1);
    const empty = (await t.admin.mutate(CreateExperimentDocument, { name: "empty" })).createExperiment.id;
    await page.goto(`${t.server.url}/#/studies?experiment=${empty}`);
    await page.locator(".studies-table td.muted", { hasText: "No studies in this experiment yet" }).waitFor();
    expect(errors).toEqual([]);
    await page.close();
  });

  it("opens a study's page from its name", async () => {
    const { page, errors } = await open("/studies");
    await page.locator(`tr[data-study-id="${ids.sweep}"] a.study-name`).click();
    await page.locator(".study-header h1", { hasText: "lr-sweep" }).waitFor();
    expect(new URL(page.url()).hash).toBe(`#/studies/${ids.sweep}`);
    // No run has logged anything: an empty state, no chart, every run listed.
    await page.locator(".study-empty").waitFor();
    expect(await page.locator(".study-page canvas").count()).toBe(0);
    expect(await page.locator(".study-runs tr.study-run").count()).toBe(6);
    expect(errors).toEqual([]);
    await page.close();
  });
});
