// ICRL Lab SDK quick start: create an experiment, import a small dataset, start a training run and
// follow its rollouts live until the run finishes. A worker (`icrl worker`) trains the run; this
// script only watches.
//
//   icrl model tiny --context 8192 -o .icrl/models/tiny.gguf   # once: the default model (random weights, 2 MB)
//   ICRL_SERVER=http://localhost:4000 ICRL_API_KEY=<member or admin key> npx tsx examples/sdk-quickstart.ts
//
// ICRL_MODEL=/models/qwen2.5-0.5b-instruct-q8_0.gguf trains a real model instead (a path as the worker sees it).
import { mkdir, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import {
  createClient,
  CreateExperimentDocument,
  CreateRunDocument,
  ExperimentsDocument,
  IcrlApiError,
  ImportDatasetDocument,
  RolloutAddedDocument,
  RolloutsDocument,
  RunUpdatedDocument,
  type RolloutFieldsFragment,
} from "@icrl-lab/client";

const icrl = createClient({ url: process.env.ICRL_SERVER ?? "http://localhost:4000", token: process.env.ICRL_API_KEY ?? "" });

// 1. The files the worker reads: the model and the search tool's corpus are paths on the worker's
//    machine. By default the worker runs on this machine, so they are made absolute here; a worker
//    reads only under its allowed directories (default: its data dir, .icrl/models and .icrl/data).
// Its byte-level tokenizer makes a 2-shot prompt ~3000 tokens, hence the context beyond the 2048 default.
const DEFAULT_MODEL = ".icrl/models/tiny.gguf";
const model = process.env.ICRL_MODEL ?? path.resolve(DEFAULT_MODEL);
if (!process.env.ICRL_MODEL && !(await stat(model).catch(() => null))) {
  console.error(
    `error: no model at ${DEFAULT_MODEL}: create it with \`icrl model tiny --context 8192 -o ${DEFAULT_MODEL}\`, or set ICRL_MODEL to a GGUF file`,
  );
  process.exit(2);
}
let corpus = process.env.ICRL_CORPUS;
if (!corpus) {
  corpus = path.resolve(".icrl/data/quickstart-corpus.jsonl");
  const passages = [
    { id: "p1", title: "Paris", text: "Paris is the capital and largest city of France." },
    { id: "p2", title: "Hamlet", text: "Hamlet is a tragedy written by William Shakespeare around 1600." },
    { id: "p3", title: "Jupiter", text: "Jupiter is the fifth planet from the Sun and the largest in the Solar System." },
  ];
  await mkdir(path.dirname(corpus), { recursive: true });
  await writeFile(corpus, passages.map((p) => JSON.stringify(p)).join("\n") + "\n");
}

// 2. An experiment groups the runs of one question. Names are unique: reuse it when it exists.
async function experimentNamed(name: string): Promise<string> {
  const found = await icrl.query(ExperimentsDocument, { nameContains: name, includeArchived: true });
  const existing = found.experiments.nodes.find((e) => e.name === name);
  if (existing) return existing.id;
  return (await icrl.mutate(CreateExperimentDocument, { name, description: "SDK quick start", tags: ["example"] })).createExperiment.id;
}
const experimentId = await experimentNamed("sdk-quickstart");

// 3. A tiny QA dataset: upload the file as a DATASET artifact, then import it (JSONL lines of
//    {id, question, golden_answers}; verl parquet works the same way with format VERL_PARQUET).
//    Dataset names are unique too, so each run of this script imports under a fresh one.
const questions = [
  { id: "q1", question: "What is the capital of France?", golden_answers: ["Paris"] },
  { id: "q2", question: "Who wrote Hamlet?", golden_answers: ["William Shakespeare", "Shakespeare"] },
  { id: "q3", question: "What is the largest planet in the Solar System?", golden_answers: ["Jupiter"] },
];
const upload = await icrl.http("/artifacts?kind=DATASET&name=quickstart.jsonl", {
  method: "POST",
  body: questions.map((q) => JSON.stringify(q)).join("\n"),
});
if (!upload.ok) throw new Error(`upload failed: HTTP ${upload.status} ${await upload.text()}`);
const artifact = (await upload.json()) as { id: string };
const dataset = (
  await icrl.mutate(ImportDatasetDocument, { input: { name: `quickstart-${Date.now()}`, kind: "QA", format: "JSONL", artifactId: artifact.id } })
).importDataset;

// 4. A run. The server validates the config and answers BAD_USER_INPUT with one fieldError per bad
//    field (contracts/run-config.ts in the ICRL Lab repository documents every setting and its default).
let run;
try {
  run = (
    await icrl.mutate(CreateRunDocument, {
      experimentId,
      name: `quickstart-${new Date().toISOString()}`,
      config: {
        model: { path: model },
        dataset: { id: dataset.id },
        tools: { search: { kind: "local", corpus } },
        curriculum: {
          stages: [
            { shots: 2, steps: 1 },
            { shots: 0, steps: 1 },
          ],
        },
        grpo: { groupSize: 2, questionsPerStep: 3 },
        // The default tiny model has random weights and never ends a turn by itself: short turns keep
        // this example to seconds. A real model stops on its own; leave this out for one.
        rollout: { maxTurnTokens: 64, maxTotalTokens: 256 },
      },
    })
  ).createRun;
} catch (err) {
  if (err instanceof IcrlApiError) for (const f of err.fieldErrors) console.error(`config.${f.path}: ${f.message}`);
  throw err;
}
console.log(`run ${run.id} is ${run.status}; waiting for a worker to train it…`);

// 5. Follow it. Subscriptions resume by themselves after a disconnect or a server restart, from the
//    last event they delivered: no gaps, no repeats. `after: "0"` starts at the run's first rollout.
const describe = (r: RolloutFieldsFragment) => {
  const calls = r.segments.filter((s) => s.kind === "TOOL_CALL").map((s) => s.text.trim());
  const answer = /<answer>([\s\S]*?)<\/answer>/.exec(r.segments.map((s) => s.text).join(""))?.[1]?.trim();
  return `step ${r.step} · ${r.questionId} · sample ${r.sampleIndex} · reward ${r.reward.toFixed(2)} · tool calls: ${calls.length ? calls.join(" | ") : "none"} · answer: ${answer ?? "-"}`;
};
const stopFollowing = new AbortController();
let seen = 0;
const rollouts = (async () => {
  for await (const { rolloutAdded } of icrl.subscribe(RolloutAddedDocument, { runId: run.id, after: "0" }, { signal: stopFollowing.signal })) {
    seen++;
    console.log(describe(rolloutAdded.rollout));
  }
})();

let status: string = run.status;
let reason: string | null | undefined = null;
for await (const { runUpdated } of icrl.subscribe(RunUpdatedDocument, { runId: run.id, after: run.version })) {
  if (runUpdated.run.status !== status) console.log(`run is ${runUpdated.run.status} (step ${runUpdated.run.step})`);
  status = runUpdated.run.status;
  reason = runUpdated.run.error;
  if (["SUCCEEDED", "FAILED", "CANCELLED"].includes(status)) break;
}

// Rollouts travel on their own stream: wait for the last ones before stopping.
const total = (await icrl.query(RolloutsDocument, { runId: run.id, first: 0 })).rollouts.totalCount;
while (seen < total) await new Promise((r) => setTimeout(r, 100));
stopFollowing.abort();
await rollouts;
console.log(`run ${run.id} finished: ${status}, ${seen} rollouts`);
if (status === "FAILED") console.log(`reason: ${reason ?? "(none recorded)"}`);
await icrl.close();
process.exitCode = status === "SUCCEEDED" ? 0 : 1;
