// ICRL Lab SDK quick start: create an experiment, import a small dataset, start a training run and
// follow its rollouts live until the run finishes. A worker (`icrl worker`) trains the run; this
// script only watches.
//
//   ICRL_SERVER=http://localhost:4000 ICRL_API_KEY=<member or admin key> \
//   ICRL_MODEL=/models/qwen2.5-0.5b-instruct-q8_0.gguf npx tsx examples/sdk-quickstart.ts
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

// 1. An experiment groups the runs of one question. Names are unique: reuse it when it exists.
async function experimentNamed(name: string): Promise<string> {
  const found = await icrl.query(ExperimentsDocument, { nameContains: name, includeArchived: true });
  const existing = found.experiments.nodes.find((e) => e.name === name);
  if (existing) return existing.id;
  return (await icrl.mutate(CreateExperimentDocument, { name, description: "SDK quick start", tags: ["example"] })).createExperiment.id;
}
const experimentId = await experimentNamed("sdk-quickstart");

// 2. A tiny QA dataset: upload the file as a DATASET artifact, then import it (JSONL lines of
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

// 3. A run. The server validates the config and answers BAD_USER_INPUT with one fieldError per bad
//    field (contracts/run-config.ts in the ICRL Lab repository documents every setting and its default).
let run;
try {
  run = (
    await icrl.mutate(CreateRunDocument, {
      experimentId,
      name: `quickstart-${new Date().toISOString()}`,
      config: {
        model: { path: process.env.ICRL_MODEL ?? "models/qwen2.5-0.5b-instruct-q8_0.gguf" },
        dataset: { id: dataset.id },
        tools: { search: { kind: "local", corpus: process.env.ICRL_CORPUS ?? "corpora/wiki-sample.jsonl" } },
        curriculum: {
          stages: [
            { shots: 2, steps: 1 },
            { shots: 0, steps: 1 },
          ],
        },
        grpo: { groupSize: 2, questionsPerStep: 3 },
      },
    })
  ).createRun;
} catch (err) {
  if (err instanceof IcrlApiError) for (const f of err.fieldErrors) console.error(`config.${f.path}: ${f.message}`);
  throw err;
}
console.log(`run ${run.id} is ${run.status}; waiting for a worker to train it…`);

// 4. Follow it. Subscriptions resume by themselves after a disconnect or a server restart, from the
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
