// Log metrics and rollouts to ICRL Lab from your own training script (one that is not an
// `icrl worker`). The run shows up in `icrl run watch`, `icrl run compare` and the dashboard like
// any other.
//
// The script registers as the worker of its own run, so it needs a WORKER-role registration key
// (an admin creates one: createApiKey(name, role: WORKER)) besides your member key.
//
//   ICRL_SERVER=http://localhost:4000 ICRL_API_KEY=<member key> ICRL_WORKER_KEY=<worker key> \
//   ICRL_DATASET_ID=<id from `icrl dataset list`> npx tsx examples/sdk-logger.ts
import { createClient, startLoggedRun } from "@icrl-lab/client";

const client = createClient({ url: process.env.ICRL_SERVER ?? "http://localhost:4000", token: process.env.ICRL_API_KEY ?? "" });

const run = await startLoggedRun({
  client,
  registrationKey: process.env.ICRL_WORKER_KEY,
  experiment: "my-own-trainer", // created when it does not exist
  name: `lr-3e-5-${Date.now()}`,
  config: {
    model: { path: "models/my-model.gguf" },
    dataset: { id: process.env.ICRL_DATASET_ID ?? "" },
    grpo: { lr: 3e-5, groupSize: 4 },
    maxSteps: 20,
  },
});
console.log(`logging to run ${run.runId}`);

for (let step = 0; step < 20; step++) {
  // ... your training step; here a made-up learning curve ...
  const reward = 0.2 + 0.6 * (1 - Math.exp(-step / 6));
  // log() and logRollouts() return at once: batches go out in the background and are retried
  // (exactly once) if the server is briefly away.
  run.log({ "reward/mean": reward, "accuracy/mean": reward * 0.9, loss: 1 / (step + 1) }, step);
  run.logRollouts([
    {
      step,
      stage: 0,
      shots: 0,
      groupIndex: 0,
      sampleIndex: 0,
      questionId: "q1",
      segments: [
        { kind: "MODEL", text: "<think>Look it up.</think><search>capital of France</search>" },
        { kind: "TOOL_RESULT", text: "<information>Doc 1(Title: Paris) Paris is the capital of France.</information>" },
        { kind: "MODEL", text: "<answer>Paris</answer>" },
      ],
      reward,
      rewardComponents: { accuracy: 1, format: 1 },
      promptTokens: 120,
      responseTokens: 40,
      turns: 2,
      toolCallsValid: 1,
      toolCallsInvalid: 0,
      finishReason: "answer",
    },
  ]);
  if (run.cancelled) break; // someone ran `icrl run cancel`
}

// Deliver what is still queued, then mark the run SUCCEEDED (or pass { error } to mark it FAILED).
// A script that forgets this is finished when the process exits.
const { status } = await run.finish();
console.log(`run ${run.runId} ${status}`);
await client.close();
