// demo.json: what a demo start created on the server (keys, ids), so the next start reuses it
// instead of importing the same data again. It holds API keys: readable by its owner only.
import { existsSync } from "node:fs";
import { readFile, rename, writeFile } from "node:fs/promises";

export interface DemoState {
  adminKey?: string;
  workerKey?: string;
  datasetId?: string;
  demonstrationSetId?: string;
  runId?: string;
}

export async function readDemoState(file: string): Promise<DemoState> {
  if (!existsSync(file)) return {};
  try {
    const value = JSON.parse(await readFile(file, "utf8")) as unknown;
    return value && typeof value === "object" ? (value as DemoState) : {};
  } catch {
    return {}; // a damaged state file only costs a re-import
  }
}

export async function writeDemoState(file: string, state: DemoState): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(state, null, 2) + "\n", { mode: 0o600 });
  await rename(tmp, file);
}
