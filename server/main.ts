// Server lifecycle: database (embedded or DATABASE_URL) -> migrations -> first admin key -> event
// listener -> HTTP/WebSocket -> lease reaper. stop() drains in the reverse order, so in-flight
// writes finish before the database goes away.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { openDatabase } from "./db/database.js";
import { Authenticator } from "./auth/authenticate.js";
import { bootstrapAdminKey } from "./auth/keys.js";
import { ArtifactStore } from "./artifacts/store.js";
import { loadServerConfig, type ServerConfig, type ServerConfigInput } from "./config.js";
import { EventHub } from "./events/hub.js";
import { FeedRegistry } from "./events/feed.js";
import { createHttpServer } from "./http/app.js";
import { expireLeases } from "./jobs/queue.js";
import { createLogger, type Logger } from "./logger.js";
import type { Services } from "./graphql/context.js";

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

export interface RunningServer {
  url: string;
  graphqlUrl: string;
  wsUrl: string;
  port: number;
  config: ServerConfig;
  services: Services;
  /** The admin key generated on first start (printed once), or null. */
  generatedAdminKey: string | null;
  stop(): Promise<void>;
  /** The server cannot go on (its embedded Postgres died and would not restart): `icrl server` exits. */
  onFatal(listener: (error: Error) => void): void;
}

export interface StartServerOptions {
  /** Defaults to a pino logger at the configured level. */
  logger?: Logger;
  /** Where ICRL_* settings are read from; defaults to process.env (tests pass {} to ignore it). */
  env?: NodeJS.ProcessEnv;
}

export async function startServer(input: Partial<ServerConfigInput> = {}, options: StartServerOptions = {}): Promise<RunningServer> {
  const config = loadServerConfig(input, options.env ?? process.env);
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, logger: logger.child({ component: "db" }) });
  const cleanups: (() => Promise<void>)[] = [() => db.close()];
  try {
    const generatedAdminKey = await bootstrapAdminKey(db.prisma, config.adminKey);
    const hub = new EventHub(db.url, logger.child({ component: "events" }));
    await hub.start();
    cleanups.unshift(() => hub.close());
    const artifacts = new ArtifactStore(config.artifactDir);
    await artifacts.init();
    const services: Services = {
      prisma: db.prisma,
      pool: db.pool,
      hub,
      feeds: new FeedRegistry(hub),
      auth: new Authenticator(db.prisma),
      artifacts,
      config,
      logger,
      health: { databaseLost: null },
    };
    const fatal: ((error: Error) => void)[] = [];
    db.onLost((error) => {
      services.health.databaseLost = error;
      logger.fatal({ err: error.message }, "database lost; the server cannot recover by itself");
      for (const l of fatal) l(error);
    });
    const http = createHttpServer(services);
    await new Promise<void>((resolve, reject) => {
      http.server.once("error", reject);
      http.server.listen(config.port, config.host, () => {
        http.server.off("error", reject);
        resolve();
      });
    });
    http.server.on("error", (err) => logger.error({ err }, "http server error"));
    cleanups.unshift(() => http.drain());
    http.setReady(true);

    const reaper = setInterval(() => {
      expireLeases(db.pool)
        .then(
          (jobs) =>
            jobs.length && logger.warn({ jobs: jobs.map((j) => ({ id: j.id, status: j.status, attempts: j.attempts })) }, "expired job leases"),
        )
        .catch((err) => logger.warn({ err: err.message }, "lease reaper failed"));
    }, config.reaperIntervalMs);
    reaper.unref();
    cleanups.unshift(async () => clearInterval(reaper));

    const address = http.server.address();
    const port = typeof address === "object" && address ? address.port : config.port;
    const host = config.host === "0.0.0.0" || config.host === "::" ? "localhost" : config.host;
    const url = `http://${host}:${port}`;
    logger.info({ url, graphql: `${url}/graphql`, embeddedDatabase: db.embedded }, "server ready");

    let stopping: Promise<void> | null = null;
    return {
      url,
      graphqlUrl: `${url}/graphql`,
      wsUrl: `ws://${host}:${port}/graphql`,
      port,
      config,
      services,
      generatedAdminKey,
      onFatal: (listener) => (services.health.databaseLost ? listener(services.health.databaseLost) : void fatal.push(listener)),
      stop: () =>
        (stopping ??= (async () => {
          for (const c of cleanups) await c().catch((err) => logger.warn({ err: (err as Error).message }, "shutdown step failed"));
          logger.info("server stopped");
        })()),
    };
  } catch (err) {
    for (const c of cleanups) await c().catch(() => {});
    throw err;
  }
}
