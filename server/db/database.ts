// The server's database: DATABASE_URL when given, otherwise an embedded Postgres in dataDir.
// Either way migrations are applied before any client is handed out.
import pg from "pg";
import { pgConfigFor, schemaFromUrl } from "./connection-config.js";
import { silentLogger, type DbLogger } from "./db-logger.js";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "./embedded-postgres.js";
import { applyMigrations } from "./migrate.js";
import { DEFAULT_MIGRATIONS_DIR } from "./migration-files.js";
import { createPrismaClient, type PrismaClient } from "./prisma.js";

export { createTestDatabase, type TestDatabase } from "./test-database.js";
export { DEFAULT_MIGRATIONS_DIR };

export interface OpenDatabaseOptions {
  /** External Postgres; when absent an embedded one is started in dataDir. */
  databaseUrl?: string;
  /** Embedded cluster directory (e.g. ".icrl/pg"), resolved against cwd. */
  dataDir: string;
  logger?: DbLogger;
  migrationsDir?: string;
  /** Connections in the pool shared by `prisma` and `pool`. Default 20. */
  poolSize?: number;
  /** Embedded Postgres port (default: remembered or free one). */
  embeddedPort?: number;
}

export interface Database {
  url: string;
  prisma: PrismaClient;
  /** node-postgres pool for raw SQL; Prisma uses the same pool. */
  pool: pg.Pool;
  embedded: boolean;
  /** Disconnects the clients, then stops the embedded Postgres if we started it. Idempotent. */
  close(): Promise<void>;
  /** The embedded Postgres died and could not be restarted (never called for an external database). */
  onLost(listener: (error: Error) => void): void;
}

export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  const logger = options.logger ?? silentLogger;
  let embedded: EmbeddedPostgres | undefined;
  let url = options.databaseUrl;
  if (!url) {
    embedded = await startEmbeddedPostgres({ dataDir: options.dataDir, port: options.embeddedPort, logger });
    url = embedded.url;
  }
  try {
    const result = await applyMigrations({ url, migrationsDir: options.migrationsDir ?? DEFAULT_MIGRATIONS_DIR, logger });
    logger.info({ applied: result.applied.length, total: result.applied.length + result.alreadyApplied.length }, "database schema up to date");
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
  return connect(url, embedded, options.poolSize ?? 20, logger);
}

function connect(url: string, embedded: EmbeddedPostgres | undefined, poolSize: number, logger: DbLogger): Database {
  const pool = new pg.Pool(pgConfigFor(url, { max: poolSize }));
  // An idle connection dropped by the server must not crash the process; the pool replaces it.
  pool.on("error", (error) => logger.warn({ err: error.message }, "idle database connection failed"));
  // pg-pool listens for errors only while a client is idle in the pool. A client checked out between
  // two queries of a transaction when Postgres dies emits "error" with no listener, which crashes the
  // process; the query that runs next fails by itself and the pool discards the client.
  pool.on("connect", (client) => client.on("error", (error) => logger.warn({ err: error.message }, "database connection failed while checked out")));
  const prisma = createPrismaClient(pool, { schema: schemaFromUrl(url) });
  let closing: Promise<void> | undefined;
  return {
    url,
    prisma,
    pool,
    embedded: embedded !== undefined,
    onLost: (listener) => embedded?.onLost(listener),
    close() {
      closing ??= (async () => {
        await prisma.$disconnect().catch((error) => logger.warn({ err: (error as Error).message }, "prisma disconnect failed"));
        await pool.end().catch((error) => logger.warn({ err: (error as Error).message }, "pool end failed"));
        await embedded?.stop();
      })();
      return closing;
    },
  };
}
