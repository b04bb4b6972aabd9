// initdb costs about a CPU-second; copying an already initialised cluster costs a fifth of that.
// Throwaway clusters (every test process, every shadow database) start from a per-user cached
// copy, built once per Postgres build. All clusters seeded from it share its generated password,
// which is fine for short-lived servers on 127.0.0.1 and is why the persistent cluster never uses it.
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { initialiseCluster } from "./cluster-init.js";
import { findPostgresBinaries } from "./postgres-runtime.js";

/** Path of the cached seed cluster, or null when no safe cache location exists (then run initdb). */
export async function throwawayClusterSeed(): Promise<string | null> {
  const uid = typeof process.getuid === "function" ? process.getuid() : 0;
  const base = path.join(os.tmpdir(), `icrl-pg-seed-${uid}`);
  // Traversable (Postgres may run as another user) but neither listable nor writable by others.
  await fs.promises.mkdir(base, { recursive: true, mode: 0o711 });
  const stat = await fs.promises.stat(base);
  if (stat.uid !== uid || (stat.mode & 0o022) !== 0) return null; // someone else's or tamperable: don't trust it

  const { postgres } = await findPostgresBinaries();
  const binary = await fs.promises.stat(postgres);
  const key = createHash("sha256").update(`${postgres}\0${binary.size}\0${binary.mtimeMs}`).digest("hex").slice(0, 16);
  const seed = path.join(base, key);
  if (fs.existsSync(path.join(seed, "PG_VERSION"))) return seed;

  // Build privately, then publish with one rename so no one ever copies a half-built seed.
  const staging = path.join(base, `${key}.${process.pid}.${Math.random().toString(36).slice(2)}`);
  try {
    await initialiseCluster(staging, { ephemeral: true });
    await fs.promises.rename(staging, seed).catch(async (error: NodeJS.ErrnoException) => {
      if (!fs.existsSync(path.join(seed, "PG_VERSION"))) throw error; // else another process won the race
    });
  } finally {
    await fs.promises.rm(staging, { recursive: true, force: true });
  }
  return seed;
}
