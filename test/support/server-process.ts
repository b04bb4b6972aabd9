// `icrl server` as its own process, for tests and benchmarks that kill it (SIGKILL) and start it again on
// the same port and data directory, run it in namespaces of its own, or run a second one (a replica).
import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { PROJECT_ROOT } from "../../server/main.js";

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface ServerProcessOptions {
  port: number;
  adminKey: string;
  /**
   * `{ dir }`: its own embedded Postgres in `<dir>/pg` and artifacts in `<dir>/artifacts`. `{ databaseUrl,
   * artifactDir }`: an existing database (another server's: a replica).
   */
  storage: { dir: string } | { databaseUrl: string; artifactDir: string };
  /** A command that runs the server: it gets the server's command line appended (e.g. `unshare … exec "$@"`). */
  wrapper?: readonly string[];
}

/** `icrl server` as a child process; stdout ignored, stderr kept for errors. */
export function startServerProcess(options: ServerProcessOptions): ChildProcess {
  const { port, adminKey, storage } = options;
  const own = "dir" in storage;
  const artifactDir = own ? path.join(storage.dir, "artifacts") : storage.artifactDir;
  const server = [
    process.execPath,
    path.join(PROJECT_ROOT, "bin/icrl.js"),
    "server",
    "--port",
    String(port),
    "--host",
    "127.0.0.1",
    ...(own ? ["--data-dir", path.join(storage.dir, "pg")] : []),
    "--artifact-dir",
    artifactDir,
  ];
  const [command, ...args] = [...(options.wrapper ?? []), ...server];
  return spawn(command, args, {
    env: { ...process.env, ICRL_ADMIN_KEY: adminKey, DATABASE_URL: own ? "" : storage.databaseUrl, ICRL_LOG_LEVEL: "warn" },
    stdio: ["ignore", "ignore", "pipe"],
  });
}

/** Until /readyz answers 200 (at most 60 s); an early exit fails with the server's stderr. */
export async function waitReady(port: number, child: ChildProcess): Promise<void> {
  let stderr = "";
  child.stderr?.on("data", (d) => (stderr += d));
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`server exited early (${child.exitCode}): ${stderr}`);
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`server not ready: ${stderr}`);
}
