// Every code block in README.md and every file in examples/ is accounted for here: run by this test
// exactly as written (an `icrl` on PATH, from a scratch directory that has the repository's examples/,
// against a real server with a real worker), run by another named test, or listed with the reason it
// cannot run in CI. A block added or renamed in README, or a file added to examples/, fails the
// inventory until it is placed in one of these lists, so README cannot drift away from what is tested.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { chmod, mkdtemp, readdir, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { CreateApiKeyDocument } from "../../client-sdk/src/index.js";
import * as sdk from "../../client-sdk/src/index.js";
import { PROJECT_ROOT } from "../../server/main.js";
import { ADMIN_KEY, startTestServer, type TestServer } from "../support/server.js";
import { spawnCli } from "../cli/helpers.js";
import { icrlProgram } from "../support/cli-program.js";
import { readReadme, readmeBlocks } from "./readme-blocks.js";
import { commandProblem, quotedIcrlCommands } from "./readme-commands.js";

type Place = { runHere: string } | { coveredBy: string; marker: string; why: string } | { notInCi: string };

/** README's blocks by their first line. */
const BLOCKS: Record<string, Place> = {
  "npm install && npm start": {
    coveredBy: "test/training/demo.test.ts",
    marker: "icrl demo",
    why: "`npm install` is never run by tests (offline, shared node_modules); `npm start` is `icrl demo`, which the demo test runs to the end",
  },
  "npm test": { notInCi: "it is the whole CI run itself" },
  "(cd client-sdk && npm pack)                       # builds dist/ and writes icrl-lab-client-0.1.0.tgz": {
    coveredBy: "test/sdk/examples.test.ts",
    marker: "npm pack",
    why: "the SDK test packs the SDK and installs the tarball offline into an empty project",
  },
  'import { createClient, CreateRunDocument, RolloutAddedDocument, RunUpdatedDocument } from "@icrl-lab/client";': {
    runHere: "an excerpt of examples/sdk-quickstart.ts (run whole by test/sdk/examples.test.ts); here its imports must exist in the SDK",
  },
  "npm run server                                            # prints the admin key on first start": {
    coveredBy: "test/sdk/examples.test.ts",
    marker: "icrl model tiny --context 8192 -o .icrl/models/tiny.gguf",
    why: "the quick start on a fresh clone: the same model command, a real `icrl worker` and the script with its defaults (the server on a free port, not 4000)",
  },
  'import { createClient, startLoggedRun } from "@icrl-lab/client";': {
    runHere: "an excerpt of examples/sdk-logger.ts (run whole by test/sdk/examples.test.ts); here its imports must exist in the SDK",
  },
  "experiment: qwen-search": { runHere: "the run file, with a real dataset id for its placeholder, is created with `icrl run create -f`" },
  "$ icrl run create -f run.yaml": { runHere: "the run file above with line 9 as README says gives exactly this output" },
  "name: curriculum-ablation": {
    runHere: "the study file, over README's run file as its base, is created with `icrl study create -f` (and cancelled)",
  },
  "icrl study create -f study.yaml               # validated locally first: FILE:LINE:COL: path: message, exit 2": {
    coveredBy: "test/studies/study-cli.test.ts",
    marker: '"study", "plot"',
    why: "the commands take a study id; the Studies CLI test runs create, watch, show, export and plot on a study a real worker ran",
  },
  "icrl model tiny --context 8192 -o .icrl/models/tiny.gguf   # once: the default model": {
    coveredBy: "test/studies/study-example.test.ts",
    marker: "examples/sdk-study.ts",
    why: "the study example test makes the model with this command in a fresh directory and runs the script with its defaults and a real worker",
  },
  'echo \'{"prediction":"The Eiffel Tower","golds":["eiffel tower"]}\' | icrl score -m em -': { runHere: "as written" },
  'icrl tool search "highest mountain" --corpus examples/corpus.jsonl --top-k 1': { runHere: "as written (bubblewrap for python)" },
  "icrl model tiny --context 4096 -o .icrl/models/tiny.gguf": { runHere: "as written" },
  "DATASET=$(icrl dataset import examples/bench-qa.jsonl --name bench-qa --kind qa)": { runHere: "as written, with `icrl worker` running" },
  "B=node_modules/@node-llama-cpp/linux-x64-cuda/bins/linux-x64-cuda": {
    notInCi: "relabels CUDA PTX for an NVIDIA driver older than CUDA 13.1: GPU machines only",
  },
  "python3 -m venv ~/.venvs/icrl-cuda": {
    notInCi: "downloads a CUDA build of torch (network, and a GPU to use it); --python itself is tested in test/cli/gpu-settings.test.ts",
  },
  "config:": { runHere: "the GPU settings merged into README's run file are accepted by `icrl run create -f`" },
  "git clone https://github.com/ggml-org/llama.cpp && pip install -r llama.cpp/requirements.txt": {
    notInCi:
      "downloads llama.cpp's converter and a Hugging Face checkpoint (network); test/training/real-tokenizer.test.ts loads files of the same layout and tokenizers, written by `icrl model build`",
  },
};

/** Files in examples/ and who runs them. */
const EXAMPLES: Record<string, Place> = {
  "demo-experiment.yaml": {
    coveredBy: "test/training/demo.test.ts",
    marker: "examples/demo-experiment.yaml",
    why: "the demo fills it in and runs it",
  },
  "sdk-quickstart.ts": {
    coveredBy: "test/sdk/examples.test.ts",
    marker: "examples/sdk-quickstart.ts",
    why: "run with its defaults against a real worker",
  },
  "sdk-logger.ts": { coveredBy: "test/sdk/examples.test.ts", marker: "examples/sdk-logger.ts", why: "run against a real server" },
  "sdk-study.ts": {
    coveredBy: "test/studies/study-example.test.ts",
    marker: "examples/sdk-study.ts",
    why: "run with its defaults against a real worker",
  },
  "qwen2.5-3b-instruct-paper.yaml": {
    coveredBy: "test/contracts/example-run-files.test.ts",
    marker: "examples/qwen2.5-3b-instruct-paper.yaml",
    why: "needs a GPU and a converted 3B model to run; the test checks it is a valid run file with the paper's settings",
  },
  "icrl-replication.yaml": {
    coveredBy: "test/contracts/replication-study.test.ts",
    marker: "examples/icrl-replication.yaml",
    why: "its 20 runs per base take 1.5-2.5 hours on 2 cores (REPLICATION.md records them); the test checks the study is the controlled comparison it claims, on the lookup and the two-hop task",
  },
  "icrl-replication.ts": {
    notInCi:
      "`npm run replicate` runs the whole replication study (60 runs over three bases, about 5 hours on 2 cores); REPLICATION.md records its output and wall time",
  },
  "corpus.jsonl": { runHere: "README's `icrl tool search` block" },
  "bench-qa.jsonl": { runHere: "README's `icrl bench` block" },
};

const blocks = readmeBlocks();
const readme = readReadme();
const block = (key: string) => {
  const found = blocks.find((b) => b.key === key);
  if (!found) throw new Error(`README.md has no block starting with ${key}`);
  return found;
};

describe("inventory", () => {
  it("every README block is run here, run by a named test, or listed with why it cannot run in CI", () => {
    const unknown = blocks.filter((b) => !(b.key in BLOCKS)).map((b) => `README.md:${b.line}: ${b.key}`);
    expect(unknown, "new README blocks: add each to BLOCKS in this file").toEqual([]);
    const gone = Object.keys(BLOCKS).filter((key) => !blocks.some((b) => b.key === key));
    expect(gone, "blocks listed here that README no longer has").toEqual([]);
  });

  it("every file in examples/ is accounted for the same way", async () => {
    const files = await readdir(path.join(PROJECT_ROOT, "examples"));
    expect(files.filter((f) => !(f in EXAMPLES))).toEqual([]);
  });

  it("the tests named as running a block or example exist and run it", () => {
    for (const place of [...Object.values(BLOCKS), ...Object.values(EXAMPLES)]) {
      if (!("coveredBy" in place)) continue;
      expect(readFileSync(path.join(PROJECT_ROOT, place.coveredBy), "utf8"), place.coveredBy).toContain(place.marker);
    }
  });

  it("the SDK excerpts import only what @icrl-lab/client exports", () => {
    for (const b of blocks.filter((b) => b.lang === "ts")) {
      const names = [...b.text.matchAll(/import \{([^}]+)\} from "@icrl-lab\/client"/g)].flatMap((m) => m[1].split(",").map((n) => n.trim()));
      expect(names.length, `README.md:${b.line}`).toBeGreaterThan(0);
      expect(
        names.filter((n) => !(n in sdk)),
        `README.md:${b.line}`,
      ).toEqual([]);
    }
  });
});

let t: TestServer;
let scratch: string;
let binDir: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  t = await startTestServer();
  scratch = await mkdtemp(path.join(os.tmpdir(), "icrl-readme-"));
  await symlink(path.join(PROJECT_ROOT, "examples"), path.join(scratch, "examples"));
  // `icrl` on PATH, as `npm link` puts it there.
  binDir = await mkdtemp(path.join(os.tmpdir(), "icrl-readme-bin-"));
  await writeFile(path.join(binDir, "icrl"), `#!/bin/sh\nexec '${process.execPath}' '${path.join(PROJECT_ROOT, "bin/icrl.js")}' "$@"\n`);
  await chmod(path.join(binDir, "icrl"), 0o755);
  env = {
    ...process.env,
    PATH: `${binDir}${path.delimiter}${process.env.PATH}`,
    ICRL_SERVER: t.server.url,
    ICRL_API_KEY: ADMIN_KEY,
    NO_COLOR: "1",
    FORCE_COLOR: "",
  };
});

afterAll(async () => {
  await t?.close();
  await rm(scratch, { recursive: true, force: true });
  await rm(binDir, { recursive: true, force: true });
});

/** Runs a README block in bash as a reader would paste it; the first failing command stops it. */
function sh(text: string, timeoutMs = 240_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn("bash", ["-e", "-o", "pipefail", "-c", text], { cwd: scratch, env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  return new Promise((resolve) =>
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

const prose = readme.replace(/\s+/g, " ");

describe("README's blocks, run as written", () => {
  it("icrl score prints what README says it prints", async () => {
    const r = await sh(block('echo \'{"prediction":"The Eiffel Tower","golds":["eiffel tower"]}\' | icrl score -m em -').text);
    expect(r.code, r.stderr).toBe(0);
    expect(prose).toContain(`prints \`${r.stdout.trim()}\``);
    expect(prose).toContain(`\`${r.stderr.trim()}\` on stderr`);
  });

  it("icrl tool searches the example corpus and runs Python in the sandbox", async () => {
    const r = await sh(block('icrl tool search "highest mountain" --corpus examples/corpus.jsonl --top-k 1').text);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("Doc 1(Title: Mount Everest) Mount Everest, at 8849 metres, is the highest mountain above sea level.\n45\n");
  });

  it("icrl model writes the tiny model and validates it; icrl bench evaluates it with a worker running", { timeout: 400_000 }, async () => {
    const model = await sh(block("icrl model tiny --context 4096 -o .icrl/models/tiny.gguf").text);
    expect(model.code, model.stderr).toBe(0);
    const [written, validated] = model.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(written).toMatchObject({ path: ".icrl/models/tiny.gguf", vocabSize: 259 });
    expect(validated).toMatchObject({ kind: "model", architecture: "llama", contextLength: 4096 });

    // `icrl worker` in a second terminal, in the same directory, so the model path means the same.
    const key = (await t.admin.mutate(CreateApiKeyDocument, { name: "readme-worker", role: "WORKER" })).createApiKey.secret;
    const worker = spawnCli(["worker", "--token", key, "--gpu", "cpu", "--threads", "1", "--log-level", "warn"], env, scratch);
    let workerLog = "";
    worker.stdout!.on("data", (d) => (workerLog += d));
    worker.stderr!.on("data", (d) => (workerLog += d));
    try {
      const bench = await sh(block("DATASET=$(icrl dataset import examples/bench-qa.jsonl --name bench-qa --kind qa)").text, 360_000);
      expect(bench.code, `${bench.stderr}\n--- worker ---\n${workerLog.slice(-3000)}`).toBe(0);
      expect(bench.stderr).toContain("Imported 3 items into dataset bench-qa");
      expect(bench.stdout).toMatch(/^name +tiny \/ bench-qa$/m);
      expect(bench.stdout).toMatch(/^status +SUCCEEDED$/m);
      expect(bench.stdout).toMatch(/^items +3 \/ 3$/m);
      expect(bench.stdout).toMatch(/^Model \| bench-qa \| Avg\n-+\|-+\|-+\ntiny +\| +\d+\.\d \| \d+\.\d$/m);
    } finally {
      const exited = new Promise((r) => worker.once("close", r));
      worker.kill("SIGTERM");
      await exited;
    }
  });

  describe("the run file", () => {
    let datasetId: string;
    const runFile = () => block("experiment: qwen-search").text.replace(/6f1c\.\.\. */, datasetId);

    beforeAll(async () => {
      await writeFile(path.join(scratch, "qa.jsonl"), `${JSON.stringify({ id: "q1", question: "Capital of France?", golden_answers: ["Paris"] })}\n`);
      const r = await sh("icrl dataset import qa.jsonl --name run-file-qa --kind qa");
      expect(r.code, r.stderr).toBe(0);
      datasetId = r.stdout.trim();
    });

    it("is accepted by icrl run create -f with a real dataset id in place of README's placeholder", async () => {
      expect(block("experiment: qwen-search").text).toMatch(/id: 6f1c\.\.\. +\} +# from `icrl dataset list`/);
      await writeFile(path.join(scratch, "run.yaml"), runFile());
      const r = await sh("icrl run create -f run.yaml");
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim()).toMatch(/^[0-9a-f-]{36}$/);
    });

    it("with line 9 as README gives it, gives README's output exactly", async () => {
      const shown = block("$ icrl run create -f run.yaml").text.split("\n");
      const line9 = /line 9 reads `([^`]+)`/.exec(prose)?.[1];
      expect(line9).toBe("grpo: { groupSize: 8, lr: fast, clipEsp: 0.1 }");
      const lines = runFile().split("\n");
      expect(lines[8].trim()).toMatch(/^grpo: /);
      lines[8] = `  ${line9}`;
      const broken = lines.join("\n");
      await writeFile(path.join(scratch, "run.yaml"), broken);
      const r = await sh(shown[0].replace(/^\$ /, ""));
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(shown.slice(1).join("\n"));
    });

    it("is the base of README's study file, which icrl study create accepts", async () => {
      await writeFile(path.join(scratch, "run.yaml"), runFile());
      await writeFile(path.join(scratch, "study.yaml"), block("name: curriculum-ablation").text);
      const r = await sh("icrl study create -f study.yaml");
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain("2 arms × 5 seeds = 10 runs");
      // Its model is README's placeholder path: cancel it before a worker tries.
      const cancelled = await sh(`icrl study cancel ${r.stdout.trim()}`);
      expect(cancelled.code, cancelled.stderr).toBe(0);
    });

    it("takes the GPU section's requirements and learner settings", async () => {
      const run = parse(runFile());
      const gpu = parse(block("config:").text) as { config: Record<string, unknown> };
      run.config = { ...run.config, ...gpu.config };
      run.name = "gpu-settings";
      expect(run.config).toMatchObject({
        requirements: { backend: "cuda" },
        learner: { device: "cuda", dtype: "bfloat16", gradientCheckpointing: true },
      });
      await writeFile(path.join(scratch, "gpu.yaml"), stringify(run));
      const r = await sh("icrl run create -f gpu.yaml");
      expect(r.code, r.stderr).toBe(0);
    });
  });
});

describe("commands quoted in README", () => {
  it("every `icrl …` README shows is a real command, with options that command takes", async () => {
    const program = await icrlProgram();
    const quoted = quotedIcrlCommands(readme);
    expect(quoted.length).toBeGreaterThan(40);
    const problems = quoted.flatMap(({ text, line }) => {
      const problem = commandProblem(program, text);
      return problem ? [`README.md:${line}: ${text}: ${problem}`] : [];
    });
    expect(problems).toEqual([]);
  });
});
