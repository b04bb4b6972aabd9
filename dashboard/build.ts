// Bundles the dashboard (Preact + uPlot + the typed SDK) into dashboard/dist, which the server
// serves at /. One JS file and one CSS file with fixed names: the server revalidates them on every
// load, so no content hashes are needed.
import { copyFile, mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

export const DASHBOARD_DIR = path.dirname(fileURLToPath(import.meta.url));
export const DIST_DIR = path.join(DASHBOARD_DIR, "dist");

export async function buildDashboard(options: { minify?: boolean } = {}): Promise<void> {
  await rm(DIST_DIR, { recursive: true, force: true });
  await mkdir(DIST_DIR, { recursive: true });
  await build({
    entryPoints: { app: path.join(DASHBOARD_DIR, "src", "main.tsx") },
    outdir: DIST_DIR,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: ["es2022"],
    jsx: "automatic",
    jsxImportSource: "preact",
    minify: options.minify ?? true,
    sourcemap: true,
    // The SDK loads `ws` only under Node; the browser uses its own WebSocket.
    external: ["ws"],
    define: { "process.env.NODE_ENV": '"production"' },
    logLevel: "warning",
  });
  await copyFile(path.join(DASHBOARD_DIR, "index.html"), path.join(DIST_DIR, "index.html"));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = Date.now();
  buildDashboard().then(
    () => console.log(`dashboard built into ${path.relative(process.cwd(), DIST_DIR)} in ${Date.now() - started} ms`),
    (err) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
