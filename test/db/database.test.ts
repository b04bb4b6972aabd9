import { chmod, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, openDatabase } from "../../server/db/database.js";
import type { DbLogger } from "../../server/db/db-logger.js";
import { readPostmasterPid } from "../../server/db/postmaster-files.js";
import { isPidAlive } from "../../server/db/process-info.js";

let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), "icrl-database-test-"));
  await chmod(scratch, 0o711);
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe("createTestDatabase", () => {
  it("gives every caller its own migrated database, and drop() removes it", async () => {
    const [a, b] = await Promise.all([createTestDatabase(), createTestDatabase()]);
    try {
      expect(a.name).not.toBe(b.name);
      await a.prisma.experiment.create({ data: { name: "only-in-a" } });
      expect(await a.prisma.experiment.count()).toBe(1);
      expect(await b.prisma.experiment.count()).toBe(0);
      const { rows } = await b.pool.query("SELECT count(*)::int AS n FROM _prisma_migrations WHERE finished_at IS NOT NULL");
      expect(rows[0].n).toBeGreaterThan(0);
    } finally {
      await a.drop();
    }
    const client = new pg.Client({ connectionString: a.url });
    await expect(client.connect()).rejects.toThrow(`database "${a.name}" does not exist`);
    await b.drop();
  });
});

describe("openDatabase", () => {
  it("uses DATABASE_URL when given: migrations checked, Prisma and the pool share one working connection pool", async () => {
    const target = await createTestDatabase();
    const db = await openDatabase({ databaseUrl: target.url, dataDir: path.join(scratch, "unused") });
    try {
      expect(db.embedded).toBe(false);
      expect(db.url).toBe(target.url);
      const experiment = await db.prisma.experiment.create({ data: { name: "via-prisma", tags: ["a"] } });
      const { rows } = await db.pool.query("SELECT name, tags FROM experiments WHERE id = $1", [experiment.id]);
      expect(rows).toEqual([{ name: "via-prisma", tags: ["a"] }]);
    } finally {
      await db.close();
      await db.close();
    }
    await expect(db.pool.query("SELECT 1")).rejects.toThrow();
    await target.drop();
  });

  it("survives a checked-out connection that Postgres drops between two queries: logged, the pool goes on", async () => {
    const target = await createTestDatabase();
    const warnings: string[] = [];
    const ignore = () => undefined;
    const logger = {
      debug: ignore,
      info: ignore,
      error: ignore,
      warn: (_: unknown, message: string) => void warnings.push(message),
    } as unknown as DbLogger;
    const db = await openDatabase({ databaseUrl: target.url, dataDir: path.join(scratch, "unused"), logger });
    const held = await db.pool.connect();
    let released = false;
    try {
      const { rows } = await held.query("SELECT pg_backend_pid() AS pid");
      // What a dying postmaster does to every backend; unhandled, the client's "error" event ends the process.
      await db.pool.query("SELECT pg_terminate_backend($1)", [rows[0].pid]);
      const lost = "database connection failed while checked out";
      for (let i = 0; i < 200 && !warnings.includes(lost); i++) await new Promise((r) => setTimeout(r, 25));
      expect(warnings).toContain(lost);
      await expect(held.query("SELECT 1")).rejects.toThrow();
      held.release(true);
      released = true;
      expect((await db.pool.query("SELECT 2 AS two")).rows).toEqual([{ two: 2 }]);
    } finally {
      if (!released) held.release(true); // else closing the pool waits for it forever
      await db.close();
      await target.drop();
    }
  });

  it("starts, migrates and stops an embedded Postgres when no URL is given, keeping data across opens", async () => {
    const dataDir = path.join(scratch, "server", "pg");
    const first = await openDatabase({ dataDir });
    const postmaster = readPostmasterPid(dataDir)!.pid;
    try {
      expect(first.embedded).toBe(true);
      await first.prisma.experiment.create({ data: { name: "persisted" } });
    } finally {
      await first.close();
    }
    expect(isPidAlive(postmaster)).toBe(false);

    const second = await openDatabase({ dataDir });
    try {
      expect(second.url).toBe(first.url);
      expect((await second.prisma.experiment.findMany()).map((e) => e.name)).toEqual(["persisted"]);
    } finally {
      await second.close();
    }
  });
});
