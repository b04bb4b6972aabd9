// ICRL Lab SDK: a study. Two arms (the in-context curriculum, and zero-shot RL from the first step)
// × two seeds, created in one call, followed live until every run has finished, then the server's
// summary printed as a table: per arm mean ± 95% CI, and the difference from the baseline arm with
// its interval and paired p-value. A worker (`icrl worker`) trains the runs; this script only watches.
//
//   icrl model tiny --context 8192 -o .icrl/models/tiny.gguf   # once: the default model (random weights, 2 MB)
//   ICRL_SERVER=http://localhost:4000 ICRL_API_KEY=<member or admin key> npx tsx examples/sdk-study.ts
//
// ICRL_MODEL names another GGUF (a path as the worker sees it); ICRL_SEEDS=1,2,3,4,5 runs more seeds.
import { mkdir, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import {
  createClient,
  CreateExperimentDocument,
  CreateStudyDocument,
  ExperimentsDocument,
  IcrlApiError,
  ImportDatasetDocument,
  StudySummaryDocument,
  StudyUpdatedDocument,
} from "@icrl-lab/client";

const icrl = createClient({ url: process.env.ICRL_SERVER ?? "http://localhost:4000", token: process.env.ICRL_API_KEY ?? "" });

// 1. The model and the search corpus are paths on the worker's machine (this one, by default).
const DEFAULT_MODEL = ".icrl/models/tiny.gguf";
const model = process.env.ICRL_MODEL ?? path.resolve(DEFAULT_MODEL);
if (!process.env.ICRL_MODEL && !(await stat(model).catch(() => null))) {
  console.error(
    `error: no model at ${DEFAULT_MODEL}: create it with \`icrl model tiny --context 8192 -o ${DEFAULT_MODEL}\`, or set ICRL_MODEL to a GGUF file`,
  );
  process.exit(2);
}
const corpus = path.resolve(".icrl/data/sdk-study-corpus.jsonl");
await mkdir(path.dirname(corpus), { recursive: true });
await writeFile(
  corpus,
  [
    { id: "p1", title: "Paris", text: "Paris is the capital and largest city of France." },
    { id: "p2", title: "Hamlet", text: "Hamlet is a tragedy written by William Shakespeare around 1600." },
    { id: "p3", title: "Jupiter", text: "Jupiter is the fifth planet from the Sun and the largest in the Solar System." },
  ]
    .map((p) => JSON.stringify(p))
    .join("\n") + "\n",
);

// 2. An experiment (reused by name) and a small dataset (imported under a fresh name each time).
const found = await icrl.query(ExperimentsDocument, { nameContains: "sdk-study", includeArchived: true });
const experimentId =
  found.experiments.nodes.find((e) => e.name === "sdk-study")?.id ??
  (await icrl.mutate(CreateExperimentDocument, { name: "sdk-study", description: "SDK study example" })).createExperiment.id;
const questions = [
  { id: "q1", question: "What is the capital of France?", golden_answers: ["Paris"] },
  { id: "q2", question: "Who wrote Hamlet?", golden_answers: ["William Shakespeare", "Shakespeare"] },
  { id: "q3", question: "What is the largest planet in the Solar System?", golden_answers: ["Jupiter"] },
];
const upload = await icrl.http("/artifacts?kind=DATASET&name=sdk-study.jsonl", {
  method: "POST",
  body: questions.map((q) => JSON.stringify(q)).join("\n"),
});
if (!upload.ok) throw new Error(`upload failed: HTTP ${upload.status} ${await upload.text()}`);
const { id: artifactId } = (await upload.json()) as { id: string };
const dataset = (await icrl.mutate(ImportDatasetDocument, { input: { name: `sdk-study-${Date.now()}`, kind: "QA", format: "JSONL", artifactId } }))
  .importDataset;

// 3. The study: a base config, arms as patches over it (mappings merge, lists replace), seeds. The
//    server validates every arm's merged config before creating any run; a bad field comes back as
//    a fieldError named "arms.<arm>.<path>".
const seeds = (process.env.ICRL_SEEDS ?? "1,2").split(",").map(Number);
let study;
try {
  study = (
    await icrl.mutate(CreateStudyDocument, {
      input: {
        experimentId,
        name: `curriculum-${new Date().toISOString()}`,
        description: "does the in-context curriculum help over zero-shot RL?",
        baseConfig: {
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
        arms: [{ name: "icrl" }, { name: "zero-shot", patch: { curriculum: { stages: [{ shots: 0, steps: 2 }] } } }],
        seeds,
        baselineArm: "zero-shot",
      },
    })
  ).createStudy;
} catch (err) {
  if (err instanceof IcrlApiError) for (const f of err.fieldErrors) console.error(`${f.path}: ${f.message}`);
  throw err;
}
console.log(`study ${study.id}: ${study.progress.total} runs queued; waiting for a worker…`);

// 4. Follow it: each event carries the study's latest state (resumable by cursor, like every stream).
let status = study.status;
for await (const { studyUpdated } of icrl.subscribe(StudyUpdatedDocument, { studyId: study.id })) {
  const p = studyUpdated.study.progress;
  console.log(`${studyUpdated.study.status}: ${p.succeeded + p.failed + p.cancelled}/${p.total} runs finished (${p.running} running)`);
  status = studyUpdated.study.status;
  if (["SUCCEEDED", "FAILED", "CANCELLED"].includes(status)) break;
}

// 5. The server's summary of each run's final reward: the statistics are computed there, stated in `method`.
const metric = "reward/mean";
const summary = (await icrl.query(StudySummaryDocument, { id: study.id, metric, at: "FINAL" })).study!.summary;
const f = (v: number | null | undefined) => (v == null ? "-" : v.toFixed(4));
console.log(`\n${metric}, final value of each run (${summary.method})`);
console.log(["arm", "n", "mean", "95% CI", "diff vs zero-shot", "95% CI", "p"].join("\t"));
for (const arm of summary.arms) {
  const d = summary.differences.find((x) => x.arm === arm.arm);
  console.log(
    [
      arm.arm,
      arm.n,
      f(arm.mean),
      `[${f(arm.ciLow)}, ${f(arm.ciHigh)}]`,
      d ? f(d.meanDiff) : "baseline",
      d ? `[${f(d.ciLow)}, ${f(d.ciHigh)}]` : "",
      d ? f(d.pValue) : "",
    ].join("\t"),
  );
}
await icrl.close();
process.exitCode = status === "SUCCEEDED" ? 0 : 1;
