// The import rules (.dependency-cruiser.cjs) must catch what they forbid: each case is a tiny tree
// with one forbidden arrow, cruised with the repository's own configuration. `npm run lint:imports`
// then proves the real tree has none.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "../..");
const DEPCRUISE = path.join(ROOT, "node_modules/dependency-cruiser/bin/dependency-cruise.mjs");
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "icrl-import-rules-"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Cruises a tree made of `files` and returns each violation as "from -> to: rule". */
async function violations(name: string, files: Record<string, string>): Promise<string[]> {
  const tree = path.join(dir, name);
  for (const [file, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(tree, file)), { recursive: true });
    await writeFile(path.join(tree, file), text);
  }
  await writeFile(path.join(tree, "tsconfig.json"), JSON.stringify({ compilerOptions: { module: "NodeNext", moduleResolution: "NodeNext" } }));
  const parts = [...new Set(Object.keys(files).map((f) => f.split("/")[0]))];
  const args = [DEPCRUISE, ...parts, "--config", path.join(ROOT, ".dependency-cruiser.cjs"), "--output-type", "json"];
  const result = await promisify(execFile)(process.execPath, args, { cwd: tree }).catch((e: { stdout: string }) => e);
  const report = JSON.parse(result.stdout) as { summary: { violations: { from: string; to: string; rule: { name: string } }[] } };
  return report.summary.violations.map((v) => `${v.from} -> ${v.to}: ${v.rule.name}`).sort();
}

const exporting = (name: string) => `export const ${name} = 1;\n`;

describe("import rules", () => {
  it("a tree that keeps to the walls passes", async () => {
    const ok = await violations("ok", {
      "contracts/index.ts": exporting("x"),
      "client-sdk/src/index.ts": 'export { x } from "../../contracts/index.js";\n',
      "worker/index.ts": 'import { x } from "../client-sdk/src/index.js";\nexport const y = x;\n',
      "worker/engine/index.ts": 'export { x as e } from "../../contracts/index.js";\n',
      "server/index.ts": 'import { x } from "../contracts/index.js";\nexport const s = x;\n',
      "cli/main.ts":
        'import { y } from "../worker/index.js";\nimport { e } from "../worker/engine/index.js";\nimport { s } from "../server/index.js";\nexport const z = [y, e, s];\n',
    });
    expect(ok).toEqual([]);
  });

  it("each forbidden arrow fails with the rule that forbids it", async () => {
    const found = await violations("bad", {
      "contracts/index.ts": 'import { w } from "../worker/index.js";\nexport const c = w;\n',
      "client-sdk/src/index.ts": 'import { m } from "../../server/main.js";\nexport { Outbox } from "./delivery/outbox.js";\nexport const k = m;\n',
      "client-sdk/src/delivery/outbox.ts": "export class Outbox {}\n",
      "server/main.ts": 'import { l } from "../worker/engine/llama.js";\nexport const m = l;\n',
      "server/graphql/resolvers/runs.ts": 'import { f } from "./rollouts.js";\nexport const r = f;\n',
      "server/graphql/resolvers/rollouts.ts": exporting("f"),
      "worker/index.ts": 'import { Outbox } from "../client-sdk/src/delivery/outbox.js";\nexport const w = Outbox;\n',
      "worker/engine/llama.ts": exporting("l"),
      "worker/a.ts": 'import { b } from "./b.js";\nexport const a = () => b;\n',
      "worker/b.ts": 'import { a } from "./a.js";\nexport const b = () => a;\n',
      "cli/main.ts": 'import { l } from "../worker/engine/llama.js";\nexport const z = l;\n',
    });
    expect(found).toEqual(
      [
        "cli/main.ts -> worker/engine/llama.ts: cli-uses-public-surfaces",
        "client-sdk/src/index.ts -> server/main.ts: sdk-is-standalone",
        "contracts/index.ts -> worker/index.ts: contracts-stand-alone",
        "server/graphql/resolvers/runs.ts -> server/graphql/resolvers/rollouts.ts: resolvers-do-not-import-each-other",
        "server/main.ts -> worker/engine/llama.ts: server-knows-no-clients",
        "worker/a.ts -> worker/b.ts: no-cycles", // a cycle is reported once, at its first arrow
        "worker/index.ts -> client-sdk/src/delivery/outbox.ts: sdk-through-its-entry",
      ].sort(),
    );
  });
});
