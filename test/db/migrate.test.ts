import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyMigrations, MigrationError, PRISMA_MIGRATE_LOCK_KEY } from "../../server/db/migrate.js";
import { DEFAULT_MIGRATIONS_DIR, readMigrationFiles, sha256Hex } from "../../server/db/migration-files.js";
import { diagnoseMigrationHistory } from "../../server/db/schema-engine.js";
import { startTemporaryPostgres, type TemporaryPostgres } from "../../server/db/temporary-postgres.js";

let server: TemporaryPostgres;
let scratch: string;
let dbCounter = 0;

beforeAll(async () => {
  server = await startTemporaryPostgres({ prefix: "icrl-migrate-test-" });
  scratch = await mkdtemp(path.join(os.tmpdir(), "icrl-migrations-"));
});

afterAll(async () => {
  await server?.destroy();
  await rm(scratch, { recursive: true, force: true });
});

async function freshDatabase(): Promise<string> {
  const name = `migrate_${++dbCounter}`;
  await sql(server.urlFor("postgres"), `CREATE DATABASE ${name}`);
  return server.urlFor(name);
}

async function sql<T extends pg.QueryResultRow = pg.QueryResultRow>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, params)).rows;
  } finally {
    await client.end();
  }
}

/** A migrations folder of our own, so tests can edit and break migrations freely. */
async function migrationsFolder(migrations: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(scratch, "set-"));
  for (const [name, body] of Object.entries(migrations)) {
    await mkdir(path.join(dir, name));
    await writeFile(path.join(dir, name, "migration.sql"), body);
  }
  return dir;
}

describe("applyMigrations with the project's migrations", () => {
  it("applies them once, records them exactly as Prisma Migrate does, and Prisma agrees", async () => {
    const url = await freshDatabase();
    const files = await readMigrationFiles(DEFAULT_MIGRATIONS_DIR);
    expect(files.length).toBeGreaterThan(0);

    const first = await applyMigrations({ url, migrationsDir: DEFAULT_MIGRATIONS_DIR });
    expect(first).toEqual({ applied: files.map((f) => f.name), alreadyApplied: [] });
    const second = await applyMigrations({ url, migrationsDir: DEFAULT_MIGRATIONS_DIR });
    expect(second).toEqual({ applied: [], alreadyApplied: files.map((f) => f.name) });

    const tables = await sql<{ table_name: string }>(url, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'");
    expect(tables.map((t) => t.table_name)).toEqual(expect.arrayContaining(["experiments", "runs", "rollouts", "jobs", "_prisma_migrations"]));

    // Prisma's table definition, column for column.
    const columns = await sql(
      url,
      `SELECT column_name, data_type, character_maximum_length AS len, is_nullable, column_default
         FROM information_schema.columns WHERE table_name = '_prisma_migrations' ORDER BY ordinal_position`,
    );
    expect(columns).toEqual([
      { column_name: "id", data_type: "character varying", len: 36, is_nullable: "NO", column_default: null },
      { column_name: "checksum", data_type: "character varying", len: 64, is_nullable: "NO", column_default: null },
      { column_name: "finished_at", data_type: "timestamp with time zone", len: null, is_nullable: "YES", column_default: null },
      { column_name: "migration_name", data_type: "character varying", len: 255, is_nullable: "NO", column_default: null },
      { column_name: "logs", data_type: "text", len: null, is_nullable: "YES", column_default: null },
      { column_name: "rolled_back_at", data_type: "timestamp with time zone", len: null, is_nullable: "YES", column_default: null },
      { column_name: "started_at", data_type: "timestamp with time zone", len: null, is_nullable: "NO", column_default: "now()" },
      { column_name: "applied_steps_count", data_type: "integer", len: null, is_nullable: "NO", column_default: "0" },
    ]);
    const rows = await sql(
      url,
      "SELECT migration_name, checksum, logs, rolled_back_at, applied_steps_count, finished_at IS NOT NULL AS finished FROM _prisma_migrations",
    );
    const checksums = await Promise.all(
      files.map(async (f) => sha256Hex(await readFile(path.join(DEFAULT_MIGRATIONS_DIR, f.name, "migration.sql")))),
    );
    expect(rows).toEqual(
      files.map((f, i) => ({
        migration_name: f.name,
        checksum: checksums[i],
        logs: null,
        rolled_back_at: null,
        applied_steps_count: 1,
        finished: true,
      })),
    );

    // Prisma Migrate's own engine reads this history as complete and untouched.
    const status = await diagnoseMigrationHistory({ url, migrationsDir: DEFAULT_MIGRATIONS_DIR });
    expect(status).toMatchObject({ history: null, failedMigrationNames: [], editedMigrationNames: [], hasMigrationsTable: true });
  });

  it("lets two servers start at once on one database without racing", async () => {
    const url = await freshDatabase();
    const dir = await migrationsFolder({
      "20260101000000_slow": "SELECT pg_sleep(0.3);\nCREATE TABLE once_only (id int);",
      "20260102000000_more": "ALTER TABLE once_only ADD COLUMN note text;",
    });
    const [a, b] = await Promise.all([applyMigrations({ url, migrationsDir: dir }), applyMigrations({ url, migrationsDir: dir })]);
    expect([a.applied, b.applied].sort((x, y) => y.length - x.length)).toEqual([["20260101000000_slow", "20260102000000_more"], []]);
    const rows = await sql(url, "SELECT migration_name FROM _prisma_migrations ORDER BY migration_name");
    expect(rows.map((r) => r.migration_name)).toEqual(["20260101000000_slow", "20260102000000_more"]);
  });

  it("times out clearly while someone else holds Prisma's migration lock", async () => {
    const url = await freshDatabase();
    const dir = await migrationsFolder({ "20260101000000_a": "CREATE TABLE a (id int);" });
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    try {
      await holder.query("SELECT pg_advisory_lock($1)", [PRISMA_MIGRATE_LOCK_KEY]);
      await expect(applyMigrations({ url, migrationsDir: dir, lockTimeoutMs: 200 })).rejects.toThrow(
        /Timed out after 200 ms waiting for the migration lock/,
      );
    } finally {
      await holder.end();
    }
    expect((await applyMigrations({ url, migrationsDir: dir })).applied).toEqual(["20260101000000_a"]);
  });
});

describe("applyMigrations safety checks", () => {
  it("rejects a migration edited after it was applied, but accepts a mere line-ending change", async () => {
    const url = await freshDatabase();
    const dir = await migrationsFolder({ "20260101000000_init": "CREATE TABLE t (id int);\nCREATE INDEX t_id ON t (id);\n" });
    await applyMigrations({ url, migrationsDir: dir });

    const file = path.join(dir, "20260101000000_init", "migration.sql");
    await writeFile(file, "CREATE TABLE t (id int);\r\nCREATE INDEX t_id ON t (id);\r\n"); // git autocrlf
    expect((await applyMigrations({ url, migrationsDir: dir })).alreadyApplied).toEqual(["20260101000000_init"]);

    await writeFile(file, "CREATE TABLE t (id bigint);\n");
    const error = await applyMigrations({ url, migrationsDir: dir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as MigrationError).migrations).toEqual(["20260101000000_init"]);
    expect((error as Error).message).toMatch(/20260101000000_init was modified after being applied .*checksum mismatch/);
  });

  it("records a failing migration as failed with nothing applied, and retries it once fixed", async () => {
    const url = await freshDatabase();
    const dir = await migrationsFolder({
      "20260101000000_good": "CREATE TABLE good (id int);",
      "20260102000000_bad": "CREATE TABLE half (id int);\nCREATE TABLE broken (id nosuchtype);\n",
    });
    const error = await applyMigrations({ url, migrationsDir: dir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as Error).message).toContain("Migration 20260102000000_bad failed and was rolled back");
    expect((error as Error).message).toContain('type "nosuchtype" does not exist');
    expect((error as Error).message).toContain("at line 2: CREATE TABLE broken (id nosuchtype);");

    const history = await sql(
      url,
      "SELECT migration_name, finished_at, rolled_back_at, applied_steps_count, logs FROM _prisma_migrations ORDER BY started_at",
    );
    expect(history).toHaveLength(2);
    expect(history[1]).toMatchObject({ migration_name: "20260102000000_bad", finished_at: null, rolled_back_at: null, applied_steps_count: 0 });
    expect(history[1].logs).toContain('type "nosuchtype" does not exist');
    const halfExists = await sql(url, "SELECT to_regclass('public.half') IS NOT NULL AS present");
    expect(halfExists).toEqual([{ present: false }]); // the whole migration rolled back

    // Prisma itself sees a failed migration, exactly as after a failed `migrate deploy`.
    const status = await diagnoseMigrationHistory({ url, migrationsDir: dir });
    expect(status.failedMigrationNames).toEqual(["20260102000000_bad"]);

    await writeFile(path.join(dir, "20260102000000_bad", "migration.sql"), "CREATE TABLE half (id int);\nCREATE TABLE broken (id int);\n");
    expect((await applyMigrations({ url, migrationsDir: dir })).applied).toEqual(["20260102000000_bad"]);
    const after = await sql(
      url,
      "SELECT finished_at IS NOT NULL AS finished, rolled_back_at IS NOT NULL AS rolled_back FROM _prisma_migrations WHERE migration_name = '20260102000000_bad' ORDER BY started_at",
    );
    expect(after).toEqual([
      { finished: false, rolled_back: true },
      { finished: true, rolled_back: false },
    ]);
  });

  it("stops on a failure recorded by Prisma itself, which may have left the database half-migrated", async () => {
    const url = await freshDatabase();
    const dir = await migrationsFolder({ "20260101000000_a": "CREATE TABLE a (id int);", "20260102000000_b": "CREATE TABLE b (id int);" });
    await applyMigrations({ url, migrationsDir: dir });
    await sql(url, "DELETE FROM _prisma_migrations WHERE migration_name = '20260102000000_b'");
    await sql(url, "DROP TABLE b");
    await sql(
      url,
      `INSERT INTO _prisma_migrations (id, checksum, migration_name, logs, started_at, applied_steps_count)
       VALUES ('00000000-0000-4000-8000-000000000001', $1, '20260102000000_b', 'Database error: boom', now(), 0)`,
      [sha256Hex("CREATE TABLE b (id int);")],
    );
    await expect(applyMigrations({ url, migrationsDir: dir })).rejects.toThrow(
      /20260102000000_b failed earlier .*\n.*boom\n.*prisma migrate resolve --rolled-back 20260102000000_b/,
    );
  });

  it("ignores folders without migration.sql and keeps Prisma's name order", async () => {
    const dir = await migrationsFolder({ "20260102000000_second": "SELECT 2;", "20260101000000_first": "SELECT 1;" });
    await mkdir(path.join(dir, "notes"));
    await cp(path.join(dir, "20260101000000_first"), path.join(dir, ".hidden"), { recursive: true });
    expect((await readMigrationFiles(dir)).map((m) => m.name)).toEqual(["20260101000000_first", "20260102000000_second"]);
  });
});
