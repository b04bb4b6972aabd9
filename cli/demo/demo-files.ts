// What `icrl demo` generates into its data directory: a tiny model, the lookup task's corpus and
// dataset, and the worked examples that become its demonstration set. Everything is deterministic
// (fixed seeds), so regenerating a deleted file gives the same bytes.
import { existsSync } from "node:fs";
import { mkdir, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import type { DemonstrationSet } from "../../contracts/index.js";
import { LearnerDriver } from "../../worker/learner/index.js";
import { buildLookupModel, LOOKUP_PRETRAINING } from "./lookup-model.js";
import { lookupDemonstrations, makeLookupItems, writeLookupFiles } from "./lookup-task.js";

/**
 * 100 made-up names: the first 3 are the worked examples of the k-shot prompts, the last 24 are held
 * out for zero-shot validation, the rest is trained on.
 */
export const DEMO_TASK = { items: 100, demonstrations: 3, validation: 24, seed: 7 } as const;

export interface DemoFiles {
  dir: string;
  model: string;
  corpus: string;
  dataset: string;
  demonstrations: DemonstrationSet;
  /** Files written by this call (missing before). */
  created: string[];
}

/** Writes through a temporary name, so an interrupted demo never leaves a half-written file behind. */
async function writeAtomically(file: string, write: (tmp: string) => Promise<void> | void): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await write(tmp);
  await rename(tmp, file);
}

export interface PrepareOptions {
  /** Pre-training steps of the demo model (default LOOKUP_PRETRAINING.steps); only used when it is built. */
  modelSteps?: number;
  /** Called before the model is built (it takes a minute or two on a laptop CPU). */
  onBuildModel?: (steps: number) => void;
}

export async function prepareDemoFiles(dir: string, options: PrepareOptions = {}): Promise<DemoFiles> {
  await mkdir(dir, { recursive: true });
  const files = {
    model: path.join(dir, "tiny-lookup.gguf"),
    corpus: path.join(dir, "lookup-corpus.jsonl"),
    dataset: path.join(dir, "lookup-dataset.jsonl"),
  };
  const items = makeLookupItems(DEMO_TASK.items, DEMO_TASK.seed);
  const examples = items.slice(0, DEMO_TASK.demonstrations);
  const questions = items.slice(DEMO_TASK.demonstrations);
  const created: string[] = [];

  if (!existsSync(files.model)) {
    // A random model never answers right, so the demo pre-trains its own once (see lookup-model.ts).
    const steps = options.modelSteps ?? LOOKUP_PRETRAINING.phases.reduce((n, p) => n + p.steps, 0);
    options.onBuildModel?.(steps);
    const learner = LearnerDriver.start();
    try {
      await writeAtomically(files.model, async (tmp) => void (await buildLookupModel({ ...LOOKUP_PRETRAINING, out: tmp, learner, steps })));
    } finally {
      await learner.shutdown();
    }
    created.push(files.model);
  }
  if (!existsSync(files.corpus)) {
    await writeAtomically(files.corpus, (tmp) => writeLookupFiles(items, { corpus: tmp }));
    created.push(files.corpus);
  }
  if (!existsSync(files.dataset)) {
    const lines = questions.map((it, i) =>
      JSON.stringify({
        id: it.id,
        question: it.question,
        golden_answers: [it.code],
        split: i >= questions.length - DEMO_TASK.validation ? "val" : "train",
      }),
    );
    await writeAtomically(files.dataset, (tmp) => writeFile(tmp, lines.join("\n") + "\n"));
    created.push(files.dataset);
  }
  return { dir, ...files, demonstrations: { ...lookupDemonstrations(examples), name: "lookup-demo" }, created };
}
