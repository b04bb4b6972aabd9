// What the browser tests share: building the bundle only when its sources changed, a headless
// Chromium that runs on this machine, and a record of the errors a page raises.
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { buildDashboard, DIST_DIR } from "../../dashboard/build.js";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const SHOTS = path.join(ROOT, "test-artifacts", "dashboard");

const CHROMIUM_ARGS = [
  "--headless=new",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** Build unless dist is newer than every source the bundle is made of. */
export async function ensureBuilt(): Promise<void> {
  const bundle = path.join(DIST_DIR, "app.js");
  const sources = Math.max(
    newestMtime(path.join(ROOT, "dashboard", "src")),
    newestMtime(path.join(ROOT, "client-sdk")),
    statSync(path.join(ROOT, "dashboard", "index.html")).mtimeMs,
  );
  if (!existsSync(bundle) || !existsSync(path.join(DIST_DIR, "index.html")) || statSync(bundle).mtimeMs < sources) await buildDashboard();
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
}

/**
 * Uncaught exceptions and console errors of a page, as they happen. A broken chart shows up here
 * and nowhere else: the rest of the page keeps working.
 */
export function pageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(`pageerror: ${err.message}`));
  page.on("console", (msg) => {
    if (msg.type() === "error") errors.push(`console: ${msg.text()}`);
  });
  return errors;
}
