// Free space where the data directory is (or will be created): the database, artifacts and checkpoints
// live there, and a full disk fails uploads midway through a run.
import { statfs } from "node:fs/promises";
import { existsSync } from "node:fs";
import path from "node:path";
import { type CheckResult, fail, ok, warn } from "./check.js";

const GIB = 1024 ** 3;
export const DISK_FAIL_BYTES = 256 * 1024 ** 2;
export const DISK_WARN_BYTES = 2 * GIB;

/** The directory itself, or its nearest ancestor that exists yet. */
function existingAncestor(dir: string): string {
  let current = path.resolve(dir);
  while (!existsSync(current) && path.dirname(current) !== current) current = path.dirname(current);
  return current;
}

export async function checkDisk(dataDir: string): Promise<CheckResult> {
  const where = existingAncestor(dataDir);
  const stats = await statfs(where);
  const free = stats.bavail * stats.bsize;
  const shown = `${(free / GIB).toFixed(1)} GiB free for ${dataDir}`;
  const fix = `free space on the disk of ${where}, or pass --data-dir on a larger disk`;
  if (free < DISK_FAIL_BYTES) return fail("disk", `${shown} (need at least ${DISK_FAIL_BYTES / 1024 ** 2} MiB)`, fix);
  if (free < DISK_WARN_BYTES) return warn("disk", `${shown} (runs with checkpoints want ${DISK_WARN_BYTES / GIB} GiB or more)`, fix);
  return ok("disk", shown);
}
