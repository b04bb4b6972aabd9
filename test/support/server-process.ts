// `icrl server` as its own process on its own embedded Postgres, for tests that kill it (SIGKILL) and
// start it again on the same port and data directory.
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

/** Data in `<dir>/pg`, artifacts in `<dir>/artifacts`; stdout ignored, stderr kept for errors. */
export function startServerProcess(options: { port: number; dir: string; adminKey: string }): ChildProcess {
  const { port, dir, adminKey } = options;
  return spawn(
    process.execPath,
    [
      path.join(PROJECT_ROOT, "bin/icrl.js"),
      "server",
      "--port",
      String(port),
      "--host",
      "127.0.0.1",
      "--data-dir",
      path.join(dir, "pg"),
      "--artifact-dir",
      path.join(dir, "artifacts"),
    ],
    {
      env: { ...process.env, ICRL_ADMIN_KEY: adminKey, DATABASE_URL: "", ICRL_LOG_LEVEL: "warn" },
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
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
