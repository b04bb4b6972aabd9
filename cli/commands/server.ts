// `icrl server`: the control plane on one port, embedded Postgres unless DATABASE_URL is given.
import type { Command } from "commander";
import { documentExitCodes, exitWith } from "../support/command.js";
import { dataDirInUse } from "../support/data-dir-in-use.js";
import { EXIT, type ExitCode } from "../support/exit-codes.js";

interface ServerCliOptions {
  port?: string;
  host?: string;
  dataDir?: string;
  databaseUrl?: string;
  artifactDir?: string;
}

const DATABASE_ERRORS = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ECONNRESET"]);

/** Where the database is, without its password, for messages. */
function databaseWhere(url: string | undefined): string {
  try {
    const u = new URL(url ?? "");
    return `${u.hostname}:${u.port || 5432}${u.pathname}`;
  } catch {
    return "DATABASE_URL";
  }
}

/** A start-up failure as one line a person can act on, and its exit code; a stack trace helps no one here. */
export function describeStartupError(err: unknown, opts: ServerCliOptions): { message: string; exitCode: ExitCode } {
  const e = err as NodeJS.ErrnoException & { name?: string };
  const port = opts.port ?? process.env.ICRL_PORT ?? process.env.PORT ?? "4000";
  const host = opts.host ?? "127.0.0.1";
  if (e?.name === "ServerConfigError") return { message: e.message, exitCode: EXIT.BAD_INPUT };
  if (e?.name === "DataDirBusyError") {
    const busy = err as { dataDir: string; owner: { pid: number; since: string } };
    return { message: dataDirInUse(busy.dataDir, busy.owner).message, exitCode: EXIT.DATA_DIR_IN_USE };
  }
  if (e?.syscall === "listen" || e?.code === "EADDRINUSE") {
    if (e.code === "EADDRINUSE") {
      return {
        message: `port ${port} on ${host} is already in use (another icrl server?): stop that process or pass --port`,
        exitCode: EXIT.ADDRESS_UNAVAILABLE,
      };
    }
    if (e.code === "EACCES") {
      return {
        message: `not allowed to listen on port ${port} (ports below 1024 need privileges): pass --port 4000`,
        exitCode: EXIT.ADDRESS_UNAVAILABLE,
      };
    }
    return {
      message: `cannot listen on ${host}:${port} (${e.code}): pass --host 127.0.0.1, 0.0.0.0 or an address of this machine`,
      exitCode: EXIT.ADDRESS_UNAVAILABLE,
    };
  }
  const databaseUrl = opts.databaseUrl ?? process.env.DATABASE_URL;
  if (databaseUrl) {
    const where = databaseWhere(databaseUrl);
    const fix = "fix --database-url / DATABASE_URL, or unset it to use the embedded Postgres";
    if (e?.code && DATABASE_ERRORS.has(e.code))
      return { message: `cannot reach the database at ${where} (${e.code}): start Postgres there or ${fix}`, exitCode: EXIT.DATABASE_UNREACHABLE };
    // Postgres refused the login (28P01, 28000) or has no such database (3D000).
    if (e?.code === "28P01" || e?.code === "28000" || e?.code === "3D000") {
      return { message: `the database at ${where} refused us: ${e.message}: ${fix}`, exitCode: EXIT.DATABASE_UNREACHABLE };
    }
  }
  return { message: e?.message ?? String(err), exitCode: EXIT.FAILED };
}

export function register(program: Command): void {
  documentExitCodes(program);
  program
    .command("server")
    .description("Run the GraphQL server (embedded Postgres unless --database-url or DATABASE_URL is set)")
    // No commander defaults: a flag's default would hide ICRL_PORT, ICRL_DATA_DIR and ICRL_ARTIFACT_DIR.
    // Precedence is flag > environment > default, resolved in server/config.ts.
    .option("--port <port>", "HTTP port (default: $ICRL_PORT or 4000)")
    // Loopback by default: the first start prints the admin key, and the API answers anyone who can
    // reach the port. Remote workers need --host 0.0.0.0 (or one interface's address).
    .option("--host <host>", "interface to listen on (default 127.0.0.1; 0.0.0.0 for remote workers)")
    .option("--data-dir <dir>", "embedded Postgres data directory (default: $ICRL_DATA_DIR or .icrl/pg)")
    .option("--database-url <url>", "use this Postgres instead of the embedded one")
    .option("--artifact-dir <dir>", "where artifact files are stored (default: $ICRL_ARTIFACT_DIR or .icrl/artifacts)")
    .addHelpText(
      "after",
      "\nExit codes: 0 stopped, 1 failed, 2 invalid setting, 6 cannot listen, 7 database unreachable, 8 data directory in use (see icrl --help).",
    )
    .action(async (opts: ServerCliOptions) => {
      const { startServer } = await import("../../server/index.js");
      let server: Awaited<ReturnType<typeof startServer>>;
      try {
        server = await startServer({
          port: opts.port,
          host: opts.host,
          dataDir: opts.dataDir,
          databaseUrl: opts.databaseUrl,
          artifactDir: opts.artifactDir,
        });
      } catch (err) {
        const { message, exitCode } = describeStartupError(err, opts);
        process.stderr.write(`icrl server: ${message}\n`);
        return await exitWith(exitCode);
      }
      process.stdout.write(`\nICRL Lab server: ${server.graphqlUrl}\nDashboard: ${server.url}/\n`);
      if (server.generatedAdminKey) {
        process.stdout.write(`Admin API key (shown once, store it now): ${server.generatedAdminKey}\n`);
      }
      let stopping = false;
      const shutdown = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        server.services.logger.info({ signal }, "shutting down");
        await server.stop();
        process.exit(0);
      };
      server.onFatal(async (error) => {
        if (stopping) return;
        stopping = true;
        process.stderr.write(`icrl server: ${error.message} Start the server again (a supervisor can do it: /healthz answers 503 now).\n`);
        await server.stop();
        await exitWith(EXIT.DATABASE_UNREACHABLE);
      });
      process.on("SIGINT", () => void shutdown("SIGINT"));
      process.on("SIGTERM", () => void shutdown("SIGTERM"));
    });
}
