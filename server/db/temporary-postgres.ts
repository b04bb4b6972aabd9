// A throwaway embedded Postgres cluster in a fresh temp directory (tests, shadow databases):
// fsync off, removed on destroy(). A watchdog removes it when our process dies without destroy()
// (test runners end workers with signals, so 'exit' handlers are not enough): a small detached
// shell blocks reading a pipe from us; when our process is gone, the pipe closes and the shell
// stops Postgres and deletes the directory.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { throwawayClusterSeed } from "./cluster-seed.js";
import type { DbLogger } from "./db-logger.js";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "./embedded-postgres.js";

export interface TemporaryPostgres extends EmbeddedPostgres {
  /** Stops Postgres and deletes its directory. Idempotent. */
  destroy(): Promise<void>;
}

export async function startTemporaryPostgres(options: { prefix?: string; database?: string; logger?: DbLogger } = {}): Promise<TemporaryPostgres> {
  const root = await fs.promises.mkdtemp(path.join(os.tmpdir(), options.prefix ?? "icrl-pg-"));
  // mkdtemp makes it 0700; Postgres may run as another OS user and must be able to enter it.
  await fs.promises.chmod(root, 0o711);
  const dataDir = path.join(root, "pg");
  const watchdog = startWatchdog(dataDir, root);
  let embedded: EmbeddedPostgres;
  try {
    const seed = await throwawayClusterSeed().catch((error: Error) => {
      options.logger?.warn({ err: error.message }, "no cached cluster seed; running initdb");
      return null;
    });
    embedded = await startEmbeddedPostgres({
      dataDir,
      ephemeral: true,
      seedFrom: seed ?? undefined,
      database: options.database,
      logger: options.logger,
    });
  } catch (error) {
    await fs.promises.rm(root, { recursive: true, force: true });
    watchdog.kill("SIGKILL");
    throw error;
  }

  let destroying: Promise<void> | undefined;
  return {
    ...embedded,
    destroy() {
      destroying ??= (async () => {
        await embedded.stop();
        await fs.promises.rm(root, { recursive: true, force: true, maxRetries: 3 });
        watchdog.kill("SIGKILL"); // its work is done; don't let it signal a pid that may be reused
      })();
      return destroying;
    },
  };
}

// $1 = data dir, $2 = directory to delete. Started before Postgres, so it also covers a death
// during initdb or startup; the postmaster's pid is read from its pid file at cleanup time.
const WATCHDOG_SCRIPT = [
  "read _ignored", // returns at EOF: our parent has exited
  'pid=$(head -n 1 "$1/postmaster.pid" 2>/dev/null)',
  'if [ -n "$pid" ]; then',
  '  kill -QUIT "$pid" 2>/dev/null', // immediate shutdown: the data is being deleted anyway
  '  i=0; while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 100 ]; do sleep 0.05; i=$((i+1)); done',
  "fi",
  'rm -rf "$2"',
].join("\n");

function startWatchdog(dataDir: string, root: string) {
  const child = spawn("/bin/sh", ["-c", WATCHDOG_SCRIPT, "icrl-pg-watchdog", dataDir, root], {
    detached: true,
    stdio: ["pipe", "ignore", "ignore"],
  });
  child.on("error", () => undefined); // no /bin/sh: destroy() still cleans up
  child.unref();
  (child.stdin as unknown as { unref?: () => void } | null)?.unref?.(); // the pipe must not keep us alive
  return child;
}
