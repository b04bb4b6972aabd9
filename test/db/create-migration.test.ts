import { cp, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMigration, migrationSlug, nextTimestamp } from "../../scripts/create-migration.js";
import { applyMigrations } from "../../server/db/migrate.js";
import { DEFAULT_MIGRATIONS_DIR, MIGRATION_LOCK_CONTENT } from "../../server/db/migration-files.js";
import { startTemporaryPostgres, type TemporaryPostgres } from "../../server/db/temporary-postgres.js";

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const schemaPath = path.join(projectRoot, "prisma", "schema.prisma");

let server: TemporaryPostgres;
let scratch: string;

beforeAll(async () => {
  server = await startTemporaryPostgres({ prefix: "icrl-create-migration-test-" });
  scratch = await mkdtemp(path.join(os.tmpdir(), "icrl-create-migration-"));
});

afterAll(async () => {
  await server?.destroy();
  await rm(scratch, { recursive: true, force: true });
});

async function query(url: string, text: string): Promise<pg.QueryResultRow[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end();
  }
}

describe("createMigration", () => {
  it("finds the committed migrations in step with prisma/schema.prisma (shadow on its own embedded Postgres)", async () => {
    const result = await createMigration({ name: "check", migrationsDir: DEFAULT_MIGRATIONS_DIR, schemaPath, env: {} });
    expect(result).toEqual({ status: "no-changes" });
  });

  it("writes a migration for a schema change that applies on top of the existing ones, then reports no changes", async () => {
    const migrationsDir = path.join(scratch, "migrations");
    await cp(DEFAULT_MIGRATIONS_DIR, migrationsDir, { recursive: true });
    const changedSchema = path.join(scratch, "schema.prisma");
    const original = await readFile(schemaPath, "utf8");
    await writeFile(
      changedSchema,
      original.replace(/model Experiment \{/, "model Experiment {\n  owner       String?") +
        '\nmodel Note {\n  id   Int    @id @default(autoincrement())\n  body String\n\n  @@map("notes")\n}\n',
    );
    // DATABASE_URL given: the shadow database is created on that server and dropped afterwards.
    const env = { DATABASE_URL: server.urlFor("postgres") };
    const before = await readdir(migrationsDir);

    const result = await createMigration({ name: "Add notes & owner", migrationsDir, schemaPath: changedSchema, env });
    expect(result.status).toBe("created");
    if (result.status !== "created") return;
    expect(path.basename(result.directory)).toMatch(/^\d{14}_add_notes_owner$/);
    expect(result.sql).toContain('ALTER TABLE "experiments" ADD COLUMN     "owner" TEXT;');
    expect(result.sql).toContain('CREATE TABLE "notes"');
    expect(await readFile(path.join(result.directory, "migration.sql"), "utf8")).toBe(result.sql);
    expect(await readFile(path.join(migrationsDir, "migration_lock.toml"), "utf8")).toBe(MIGRATION_LOCK_CONTENT);
    expect((await readdir(migrationsDir)).filter((n) => !before.includes(n))).toEqual([path.basename(result.directory)]);

    const leftovers = await query(server.urlFor("postgres"), "SELECT datname FROM pg_database WHERE datname LIKE 'icrl_shadow_%'");
    expect(leftovers).toEqual([]);

    await query(server.urlFor("postgres"), "CREATE DATABASE applied_target");
    const applied = await applyMigrations({ url: server.urlFor("applied_target"), migrationsDir });
    expect(applied.applied.at(-1)).toBe(path.basename(result.directory));
    await query(server.urlFor("applied_target"), "INSERT INTO notes (body) VALUES ('hello')");

    expect(await createMigration({ name: "again", migrationsDir, schemaPath: changedSchema, env })).toEqual({ status: "no-changes" });
  });

  it("names migrations like Prisma and keeps them in order", () => {
    expect(migrationSlug("  Add Runs/Index  ")).toBe("add_runs_index");
    expect(() => migrationSlug("!!!")).toThrow(/Invalid migration name/);
    const now = new Date("2026-11-25T10:00:00Z");
    expect(nextTimestamp(now, "20261101000000_init")).toBe("20261125100000");
    expect(nextTimestamp(now, "20261125100000_same_second")).toBe("20261125100001");
  });
});
