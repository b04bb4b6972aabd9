// npm run migration:create -- <name>
// Writes prisma/migrations/<YYYYMMDDHHMMSS>_<name>/migration.sql with the SQL that takes a database
// migrated with the existing migrations to prisma/schema.prisma. Works offline: Prisma's schema
// engine runs as WebAssembly and replays the existing migrations into a shadow database that this
// script creates and drops itself:
//   SHADOW_DATABASE_URL  used as is (must be an empty, disposable database), else
//   DATABASE_URL         a temporary database is created on that server and dropped after, else
//                        a temporary embedded Postgres cluster.
// Prints "no changes" and writes nothing when the schema already matches the migrations.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { pgConfigFor } from "../server/db/connection-config.js";
import { MIGRATION_LOCK_CONTENT, MIGRATION_LOCK_FILE, readMigrationFiles } from "../server/db/migration-files.js";
import { diffMigrationsToSchema } from "../server/db/schema-engine.js";
import { startTemporaryPostgres } from "../server/db/temporary-postgres.js";

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

export interface CreateMigrationOptions {
  name: string;
  schemaPath?: string;
  migrationsDir?: string;
  env?: NodeJS.ProcessEnv;
  now?: Date;
}

export type CreateMigrationResult = { status: "created"; directory: string; sql: string } | { status: "no-changes" };

export async function createMigration(options: CreateMigrationOptions): Promise<CreateMigrationResult> {
  const name = migrationSlug(options.name);
  const schemaPath = options.schemaPath ?? path.join(projectRoot, "prisma", "schema.prisma");
  const migrationsDir = options.migrationsDir ?? path.join(projectRoot, "prisma", "migrations");
  await fs.promises.mkdir(migrationsDir, { recursive: true });

  const sql = await withShadowDatabase(options.env ?? process.env, (shadowUrl) => diffMigrationsToSchema({ migrationsDir, schemaPath, shadowUrl }));
  if (sql === null || sql.trim() === "") return { status: "no-changes" };

  const existing = await readMigrationFiles(migrationsDir);
  const directory = path.join(migrationsDir, `${nextTimestamp(options.now ?? new Date(), existing.at(-1)?.name)}_${name}`);
  await fs.promises.mkdir(directory);
  await fs.promises.writeFile(path.join(directory, "migration.sql"), sql);
  await fs.promises.writeFile(path.join(migrationsDir, MIGRATION_LOCK_FILE), MIGRATION_LOCK_CONTENT);
  return { status: "created", directory, sql };
}

/** Prisma's convention: lower case, anything but letters, digits and "_" becomes "_". */
export function migrationSlug(raw: string): string {
  const slug = raw
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .slice(0, 200);
  if (!slug) throw new UsageError(`Invalid migration name "${raw}": use letters, digits and "_"`);
  return slug;
}

/** UTC YYYYMMDDHHMMSS, bumped past the newest existing migration so the order stays right. */
export function nextTimestamp(now: Date, latestName: string | undefined): string {
  const stamp = (d: Date) => d.toISOString().replace(/[-:T]/g, "").slice(0, 14);
  let candidate = now;
  const latest = latestName?.slice(0, 14);
  while (latest && stamp(candidate) <= latest) candidate = new Date(candidate.getTime() + 1000);
  return stamp(candidate);
}

async function withShadowDatabase<T>(env: NodeJS.ProcessEnv, work: (shadowUrl: string) => Promise<T>): Promise<T> {
  if (env.SHADOW_DATABASE_URL) return work(env.SHADOW_DATABASE_URL);
  if (env.DATABASE_URL) {
    const name = `icrl_shadow_${crypto.randomBytes(6).toString("hex")}`;
    const admin = new pg.Client(pgConfigFor(env.DATABASE_URL));
    await admin.connect();
    try {
      try {
        await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(name)}`);
      } catch (error) {
        throw new Error(
          `Cannot create a temporary shadow database on DATABASE_URL's server (${(error as Error).message}): ` +
            `set SHADOW_DATABASE_URL to an empty database you can spare, or unset DATABASE_URL to use an embedded one.`,
        );
      }
      const shadow = new URL(env.DATABASE_URL);
      shadow.pathname = `/${name}`;
      shadow.searchParams.delete("schema");
      try {
        return await work(shadow.toString());
      } finally {
        const drop = `DROP DATABASE IF EXISTS ${admin.escapeIdentifier(name)}`;
        // WITH (FORCE) (Postgres >= 13) also ends connections the engine may have left open.
        await admin.query(`${drop} WITH (FORCE)`).catch(() => admin.query(drop));
      }
    } finally {
      await admin.end();
    }
  }
  const cluster = await startTemporaryPostgres({ prefix: "icrl-shadow-", database: "shadow" });
  try {
    return await work(cluster.url);
  } finally {
    await cluster.destroy();
  }
}

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const name = argv.filter((a) => !a.startsWith("-"))[0];
  if (!name || argv.includes("--help") || argv.includes("-h")) {
    process.stderr.write("usage: npm run migration:create -- <name>\n");
    return name ? 0 : 2;
  }
  try {
    const result = await createMigration({ name });
    if (result.status === "no-changes") {
      process.stdout.write("no changes\n");
    } else {
      process.stdout.write(`created ${path.relative(process.cwd(), path.join(result.directory, "migration.sql"))}\n`);
    }
    return 0;
  } catch (error) {
    process.stderr.write(`migration:create failed: ${(error as Error).message}\n`);
    return error instanceof UsageError ? 2 : 1;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
