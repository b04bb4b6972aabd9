// Runs the replication study of REPLICATION.md from a fresh clone, with nothing but this machine:
//   npm run replicate [-- --out .icrl/replication --bases never-searching,demo,two-hop --threads 2]
// It prepares the lookup task (the demo's data), builds each base model with `icrl model lookup`,
// starts a server on its own embedded Postgres and one local worker, creates one study per base from
// examples/icrl-replication.yaml with `icrl study create --set model.path=...`, follows it with
// `icrl study watch`, and writes each study's tables (`study show`), numbers (`study export`) and
// figures (`study plot`) into the output directory. Then it reads every run's adapters back and
// measures how likely each is to open with a search, zero-shot and 3-shot (<study>.search-probability.csv:
// the transfer from k-shot training to zero-shot prompts, which sampled rates below ~1% cannot show). Interrupted, it picks up where it stopped: the
// data, models, database and studies of the output directory are reused, and unfinished runs resume.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { pino } from "pino";
import { prepareDemoFiles } from "../cli/demo/demo-files.js";
import { readDemoState, writeDemoState } from "../cli/demo/demo-state.js";
import { fillPlaceholders } from "../cli/demo/experiment-file.js";
import { LOOKUP_TEMPLATE } from "../cli/demo/lookup-task.js";
import { ensureServerData } from "../cli/demo/server-data.js";
import { DEMO_TASK } from "../cli/demo/demo-files.js";
import { makeLookupItems } from "../cli/demo/lookup-task.js";
import { openingProbability } from "../cli/demo/search-probability.js";
import { makeTwoHopTask, twoHopDemonstrations, twoHopRunSettings, writeTwoHopFiles } from "../cli/demo/two-hop-task.js";
import { ArtifactsDocument, createClient, type IcrlClient, StudiesDocument } from "../client-sdk/src/index.js";
import { loadLlamaEngine } from "../worker/engine/index.js";
import { generateSecret, PROJECT_ROOT, startServer } from "../server/index.js";
import { Worker } from "../worker/index.js";

/**
 * A base model: built once into the output directory by the named `icrl model lookup` prior, and the
 * task it is studied on: the demo's lookup task, or its two-hop variant (cli/demo/two-hop-task.ts),
 * whose answers take two searches, so its rollouts get a third tool turn and more tokens.
 */
const BASES = {
  "never-searching": { file: "never-searching.gguf", build: ["--prior", "never-searching", "--seed", "1"], task: "lookup" },
  demo: { file: "tiny-lookup.gguf", build: null, task: "lookup" }, // the demo's own model, written by prepareDemoFiles
  "two-hop": { file: "two-hop.gguf", build: ["--prior", "two-hop", "--seed", "1"], task: "two-hop" },
} as const;
type BaseName = keyof typeof BASES;

/** Each study's outputs: the summary tables of these metrics, and a figure of each curve. */
const TABLE_METRICS = ["val/accuracy", "val/tool_calls_mean"];
const FIGURE_METRICS = ["val/accuracy", "val/tool_calls_mean", "reward/mean", "tools/valid_calls_per_rollout"];

const { values: args } = parseArgs({
  options: {
    out: { type: "string", default: ".icrl/replication" },
    bases: { type: "string", default: "never-searching,demo,two-hop" },
    threads: { type: "string", default: "2" },
    study: { type: "string", default: path.join(PROJECT_ROOT, "examples/icrl-replication.yaml") },
  },
});
const outDir = path.resolve(args.out);
const bases = args.bases.split(",").map((b) => b.trim()) as BaseName[];
for (const b of bases) if (!(b in BASES)) throw new Error(`--bases: unknown base "${b}" (known: ${Object.keys(BASES).join(", ")})`);
const log = (line: string) => process.stdout.write(`[replicate ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

/** Runs the icrl CLI as a user would; its output goes to the terminal, or into `capture` when given. */
function icrl(argv: string[], env: NodeJS.ProcessEnv, capture?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(PROJECT_ROOT, "bin/icrl.js"), ...argv], {
      env: { ...process.env, ...env },
      stdio: ["ignore", capture ? "pipe" : "inherit", "inherit"],
    });
    let text = "";
    child.stdout?.on("data", (d) => (text += d));
    child.on("error", reject);
    child.on("close", async (code) => {
      if (capture) {
        await writeFile(capture, text);
        process.stdout.write(text);
      }
      code === 0 ? resolve() : reject(new Error(`icrl ${argv.slice(0, 2).join(" ")} exited ${code}`));
    });
  });
}

const started = performance.now();
await mkdir(outDir, { recursive: true });
log(`output directory ${outDir}`);
const twoHopFiles = { corpus: path.join(outDir, "two-hop-corpus.jsonl"), dataset: path.join(outDir, "two-hop-dataset.jsonl") };
const files = await prepareDemoFiles(outDir, { onBuildModel: (steps) => log(`pre-training the demo base (${steps} steps) ...`) });
for (const base of bases) {
  const spec = BASES[base];
  const model = path.join(outDir, spec.file);
  if (spec.build && !existsSync(model)) {
    log(`building the ${base} base ...`);
    await icrl(["model", "lookup", ...spec.build, "-o", model], {});
  }
}

const statePath = path.join(outDir, "state.json");
const state = await readDemoState(statePath);
state.adminKey ??= generateSecret();
await writeDemoState(statePath, state);
const logger = pino({ level: "info" }, pino.destination({ dest: path.join(outDir, "server.log"), append: true, sync: true }));
const server = await startServer(
  { port: 0, host: "127.0.0.1", dataDir: path.join(outDir, "pg"), artifactDir: path.join(outDir, "artifacts"), adminKey: state.adminKey },
  { logger: logger.child({ component: "server" }), env: {} },
);
const admin = createClient({ url: server.url, token: state.adminKey });
const cli = { ICRL_SERVER: server.url, ICRL_API_KEY: state.adminKey, NO_COLOR: "1" };
let running: Worker | undefined;
try {
  const ids = await ensureServerData(admin, files, state);
  await writeDemoState(statePath, state);
  const twoHop = bases.some((b) => BASES[b].task === "two-hop") ? await prepareTwoHop(state.workerKey!) : undefined;
  // The study file and its base side by side, the base's placeholders filled in.
  const demoFile = path.join(PROJECT_ROOT, "examples/demo-experiment.yaml");
  await writeFile(
    path.join(outDir, "demo-experiment.yaml"),
    fillPlaceholders(await readFile(demoFile, "utf8"), demoFile, {
      DEMO_DIR: outDir,
      DATASET_ID: ids.datasetId,
      DEMONSTRATION_SET_ID: ids.demonstrationSetId,
      LOOKUP_TEMPLATE: JSON.stringify(LOOKUP_TEMPLATE),
    }),
  );
  const studyFile = path.join(outDir, "icrl-replication.yaml");
  await copyFile(args.study, studyFile);

  running = new Worker(workerOptions(ids.workerKey));
  const workerDone = running.run();

  for (const base of bases) {
    const name = `replication-${base}`;
    const existing = (await admin.query(StudiesDocument, { first: 100 })).studies.nodes.find((s) => s.name === name);
    if (!existing) {
      log(`creating study ${name}`);
      const settings = [`model.path=${path.join(outDir, BASES[base].file)}`, ...(BASES[base].task === "two-hop" ? twoHop!.settings : [])];
      await icrl(["study", "create", "-f", studyFile, "--name", name, ...settings.flatMap((s) => ["--set", s])], cli);
    }
    const study = (await admin.query(StudiesDocument, { first: 100 })).studies.nodes.find((s) => s.name === name)!;
    log(`following study ${name} (${study.id})`);
    await icrl(["study", "watch", study.id], cli).catch((err: Error) =>
      log(`${err.message}: a run failed, or the watch did (its message is above); the tables below say which runs succeeded`),
    );
    for (const metric of TABLE_METRICS) {
      await icrl(["study", "show", study.id, "--metric", metric], cli, path.join(outDir, `${name}.${metric.replace("/", "-")}.txt`));
    }
    await icrl(["study", "export", study.id, "--format", "json", "-o", path.join(outDir, `${name}.json`)], cli);
    for (const metric of FIGURE_METRICS) {
      await icrl(["study", "plot", study.id, "--metric", metric, "--out", path.join(outDir, `${name}.${metric.replace("/", "-")}.svg`)], cli);
    }
    // The probe asks about the first search; on the two-hop task the question is the second one, which
    // val/tool_calls_mean answers.
    if (BASES[base].task === "lookup") await probeSearchOpening(admin, name, path.join(outDir, BASES[base].file));
  }
  running.stop("replication done");
  await workerDone;
  running = undefined;
  log(`done in ${((performance.now() - started) / 60_000).toFixed(1)} min; tables, numbers and figures in ${outDir}`);
} finally {
  running?.stop("replication interrupted");
  await admin.close().catch(() => undefined);
  await server.stop();
}

/** The two-hop task's corpus and dataset in the output directory, its data on the server, and the settings that point a study at them. */
async function prepareTwoHop(workerKey: string): Promise<{ settings: string[] }> {
  const task = makeTwoHopTask();
  if (!existsSync(twoHopFiles.dataset)) await writeTwoHopFiles(task, twoHopFiles);
  const twoHopStatePath = path.join(outDir, "two-hop-state.json");
  const twoHopState = { ...(await readDemoState(twoHopStatePath)), workerKey };
  const ids = await ensureServerData(
    admin,
    { dataset: twoHopFiles.dataset, demonstrations: twoHopDemonstrations(task.examples) },
    twoHopState,
    "two-hop",
  );
  await writeDemoState(twoHopStatePath, { datasetId: ids.datasetId, demonstrationSetId: ids.demonstrationSetId });
  return { settings: twoHopRunSettings({ ...ids, corpus: twoHopFiles.corpus }) };
}

function workerOptions(token: string): ConstructorParameters<typeof Worker>[0] {
  return {
    serverUrl: server.url,
    token,
    name: "replication",
    threads: Number(args.threads),
    gpu: false,
    dataDir: path.join(outDir, "worker"),
    // The runs read the base models and the corpus; the rest of the directory (the database, the admin key) stays out of reach.
    allowPaths: [path.join(outDir, "worker"), files.corpus, twoHopFiles.corpus, ...bases.map((b) => path.join(outDir, BASES[b].file))],
    pollMs: 500,
    logger: logger.child({ component: "worker" }),
  };
}

/**
 * P(the response opens with "<search>") on the 24 held-out questions, zero-shot and 3-shot, for the base
 * model (step 0) and every adapter each run of the study stored: one CSV row per run, step and shots,
 * and the mean over seeds per arm printed.
 */
async function probeSearchOpening(client: IcrlClient, name: string, model: string): Promise<void> {
  const items = makeLookupItems(DEMO_TASK.items, DEMO_TASK.seed);
  const examples = items.slice(0, DEMO_TASK.demonstrations);
  const heldOut = items.slice(DEMO_TASK.demonstrations).slice(-DEMO_TASK.validation);
  const exported = JSON.parse(await readFile(path.join(outDir, `${name}.json`), "utf8")) as {
    study: { runs: { id: string; arm: string; seed: number }[] };
  };
  const adapters = path.join(outDir, "probe-adapters");
  await mkdir(adapters, { recursive: true });
  const engine = await loadLlamaEngine({ modelPath: model, threads: Number(args.threads), gpu: false, contextSize: 1024 });
  const rows: { arm: string; seed: number; step: number; shots: number; p: number }[] = [];
  try {
    const measure = async (arm: string, seed: number, step: number) => {
      for (const shots of [0, 3]) rows.push({ arm, seed, step, shots, p: await openingProbability(engine, heldOut, { shots, examples }) });
    };
    await engine.setAdapter(null);
    for (const seed of new Set(exported.study.runs.map((r) => r.seed))) await measure("base", seed, 0);
    for (const run of exported.study.runs) {
      const stored = (await client.query(ArtifactsDocument, { runId: run.id, kind: "ADAPTER" })).artifacts;
      for (const artifact of stored.toSorted((a, b) => (a.step ?? 0) - (b.step ?? 0))) {
        const file = path.join(adapters, `${artifact.id}.gguf`);
        if (!existsSync(file)) {
          const response = await client.http(artifact.downloadPath);
          if (!response.ok) throw new Error(`downloading ${artifact.name} of ${run.arm}/seed-${run.seed}: HTTP ${response.status}`);
          await writeFile(file, Buffer.from(await response.arrayBuffer()));
        }
        await engine.setAdapter(file);
        await measure(run.arm, run.seed, artifact.step ?? 0);
      }
    }
  } finally {
    await engine.dispose();
  }
  const csv = ["arm,seed,step,shots,p_search_opening", ...rows.map((r) => `${r.arm},${r.seed},${r.step},${r.shots},${r.p}`)];
  await writeFile(path.join(outDir, `${name}.search-probability.csv`), csv.join("\n") + "\n");
  const means = new Map<string, number[]>();
  for (const r of rows) {
    const key = `${r.arm}\tstep ${r.step}\t${r.shots}-shot`;
    means.set(key, [...(means.get(key) ?? []), r.p]);
  }
  log(`${name}: P(response opens with <search>) on the held-out questions, mean over seeds [min, max]`);
  for (const [key, ps] of means) {
    const mean = ps.reduce((a, b) => a + b, 0) / ps.length;
    process.stdout.write(`  ${key}\t${mean.toExponential(2)} [${Math.min(...ps).toExponential(2)}, ${Math.max(...ps).toExponential(2)}]\n`);
  }
}
