// The worker's identity across restarts: a random id kept in its data directory. The server
// registers a worker that presents a known id as that same worker (see registerWorker), so
// restarting a worker does not add a second one; two data directories are two workers.
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

const FILE = "worker-id";
const VALID = /^[A-Za-z0-9_-]{8,100}$/;

export function workerInstanceId(dataDir: string): string {
  const file = path.join(dataDir, FILE);
  const existing = readId(file);
  if (existing) return existing;
  fs.mkdirSync(dataDir, { recursive: true });
  // Write then link: a second process starting on the same directory at the same moment either
  // wins or reads the winner's id, never a half-written file.
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${randomUUID()}\n`);
  try {
    fs.linkSync(tmp, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  const id = readId(file);
  if (!id) throw new Error(`${file} does not hold a worker id; delete it to let the worker make a new one.`);
  return id;
}

function readId(file: string): string | null {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8").trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
  if (!VALID.test(text)) throw new Error(`${file} does not hold a worker id; delete it to let the worker make a new one.`);
  return text;
}
