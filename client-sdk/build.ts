// Builds the publishable @icrl-lab/client into client-sdk/dist: two ESM bundles (the Node entry and
// the browser entry) with the contracts compiled in and the five dependencies left external, plus
// declaration files. The repository itself imports the sources; dist/ is what `npm pack` ships and
// what examples resolve through the package name.
import { execFileSync } from "node:child_process";
import { readFile, rm } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const SDK_DIR = path.dirname(fileURLToPath(import.meta.url));
const pkg = JSON.parse(await readFile(path.join(SDK_DIR, "package.json"), "utf8")) as { dependencies: Record<string, string> };

await rm(path.join(SDK_DIR, "dist"), { recursive: true, force: true });
await build({
  entryPoints: { index: path.join(SDK_DIR, "src/index.ts"), browser: path.join(SDK_DIR, "src/browser.ts") },
  outdir: path.join(SDK_DIR, "dist"),
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  external: Object.keys(pkg.dependencies),
  sourcemap: true,
  logLevel: "warning",
});
const tsc = path.join(SDK_DIR, "..", "node_modules", "typescript", "bin", "tsc");
execFileSync(process.execPath, [tsc, "-p", path.join(SDK_DIR, "tsconfig.build.json")], { stdio: "inherit" });
