// `icrl server`: the control plane on one port, embedded Postgres unless DATABASE_URL is given.
import type { Command } from "commander";

export function register(program: Command): void {
  program
    .command("server")
    .description("Run the GraphQL server (embedded Postgres unless --database-url or DATABASE_URL is set)")
    .option("--port <port>", "HTTP port", "4000")
    // Loopback by default: the first start prints the admin key, and the API answers anyone who can
    // reach the port. Remote workers need --host 0.0.0.0 (or one interface's address).
    .option("--host <host>", "interface to listen on (0.0.0.0 for remote workers)", "127.0.0.1")
    .option("--data-dir <dir>", "embedded Postgres data directory", ".icrl/pg")
    .option("--database-url <url>", "use this Postgres instead of the embedded one")
    .option("--artifact-dir <dir>", "where artifact files are stored", ".icrl/artifacts")
    .action(async (opts) => {
      const { startServer } = await import("../../server/index.js");
      const server = await startServer({
        port: opts.port,
        host: opts.host,
        dataDir: opts.dataDir,
        databaseUrl: opts.databaseUrl,
        artifactDir: opts.artifactDir,
      });
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
      process.on("SIGINT", () => void shutdown("SIGINT"));
      process.on("SIGTERM", () => void shutdown("SIGTERM"));
    });
}
