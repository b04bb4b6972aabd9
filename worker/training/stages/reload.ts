// Stage "reload": export the updated adapter and hot-load it, so the next step samples from the new
// policy. Files are never rewritten (llama.cpp caches adapters by path): each update gets its own.
import { rm } from "node:fs/promises";
import path from "node:path";
import type { Engine } from "../../engine/types.js";
import type { LearnerDriver } from "../../learner/driver.js";

export interface AdapterState {
  /** Updates applied so far (restored from checkpoints). */
  version: number;
  /** The adapter file the engine serves, null before the first update. */
  current: string | null;
}

export const adapterFileFor = (workDir: string, step: number): string => path.join(workDir, "adapters", `adapter-${step}.gguf`);

export async function reloadAdapter(
  learner: Pick<LearnerDriver, "exportAdapter">,
  engine: Pick<Engine, "setAdapter">,
  adapters: AdapterState,
  file: string,
): Promise<void> {
  adapters.version++;
  await learner.exportAdapter(file);
  await engine.setAdapter(file);
  if (adapters.current && adapters.current !== file) await rm(adapters.current, { force: true });
  adapters.current = file;
}
