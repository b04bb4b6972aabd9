// Fresh, migrated databases for tests. One throwaway embedded cluster per test process (started on
// first use, removed at exit); migrations run once into a template database, and every call
// clones it with CREATE DATABASE ... TEMPLATE, which takes milliseconds.
import pg from "pg";
import { applyMigrations } from "./migrate.js";
import { DEFAULT_MIGRATIONS_DIR } from "./migration-files.js";
import { createPrismaClient, type PrismaClient } from "./prisma.js";
import { startTemporaryPostgres, type TemporaryPostgres } from "./temporary-postgres.js";

export interface TestDatabase {
  url: string;
  name: string;
  /** Created on first use; shares `pool`. */
  readonly prisma: PrismaClient;
  /** Created on first use. */
  readonly pool: pg.Pool;
  /** Disconnects our clients and drops the database (other connections are terminated). */
  drop(): Promise<void>;
  /** Same as drop(). */
  close(): Promise<void>;
}

const TEMPLATE = "icrl_template";
const clusters = new Map<string, Promise<TemporaryPostgres>>();
let cloning: Promise<unknown> = Promise.resolve();
let counter = 0;

function clusterFor(migrationsDir: string): Promise<TemporaryPostgres> {
  let cluster = clusters.get(migrationsDir);
  if (!cluster) {
    cluster = (async () => {
      const server = await startTemporaryPostgres({ prefix: "icrl-test-pg-", database: TEMPLATE });
      try {
        await applyMigrations({ url: server.url, migrationsDir });
      } catch (error) {
        await server.destroy();
        throw error;
      }
      return server;
    })();
    cluster.catch(() => clusters.delete(migrationsDir)); // let a later call retry
    clusters.set(migrationsDir, cluster);
  }
  return cluster;
}

export async function createTestDatabase(options: { migrationsDir?: string } = {}): Promise<TestDatabase> {
  const server = await clusterFor(options.migrationsDir ?? DEFAULT_MIGRATIONS_DIR);
  const name = `icrl_test_${process.pid}_${++counter}`;
  // Cloning needs the template to be idle; one clone at a time keeps it that way.
  const created = cloning.then(() => adminQuery(server, `CREATE DATABASE "${name}" TEMPLATE "${TEMPLATE}"`));
  cloning = created.catch(() => undefined);
  await created;

  const url = server.urlFor(name);
  let pool: pg.Pool | undefined;
  let prisma: PrismaClient | undefined;
  let dropping: Promise<void> | undefined;
  const drop = () =>
    (dropping ??= (async () => {
      await prisma?.$disconnect();
      await pool?.end();
      await adminQuery(server, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    })());
  const getPool = () => {
    if (!pool) {
      pool = new pg.Pool({ connectionString: url, max: 10 });
      pool.on("error", () => undefined); // connections die when the database is dropped
    }
    return pool;
  };
  return {
    url,
    name,
    get pool() {
      return getPool();
    },
    get prisma() {
      prisma ??= createPrismaClient(getPool());
      return prisma;
    },
    drop,
    close: drop,
  };
}

async function adminQuery(server: TemporaryPostgres, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: server.urlFor("postgres") });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
