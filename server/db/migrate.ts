// Applies prisma/migrations/*/migration.sql at server start with plain `pg` (the Prisma 7 CLI needs
// a native engine that cannot be downloaded offline). Bookkeeping follows Prisma Migrate exactly,
// so `prisma migrate deploy` / `migrate status` keep working against the same database:
//   - table _prisma_migrations with Prisma's columns; checksum = sha256 hex of migration.sql;
//     a success row has finished_at set and applied_steps_count = 1;
//     a failed row has finished_at NULL, rolled_back_at NULL and the error in `logs`;
//   - the same session advisory lock key as Prisma (72707369), so neither two servers nor a
//     server and `prisma migrate deploy` apply migrations at the same time.
// Difference: each migration runs in one transaction together with its bookkeeping row, so a
// failure leaves no partial schema. Such a failure is recorded (with a marker in `logs`) and the
// migration is retried on the next start; failures recorded by Prisma itself (possibly partial)
// stop us until someone resolves them.
import { randomUUID } from "node:crypto";
import pg from "pg";
import { pgConfigFor, schemaFromUrl } from "./connection-config.js";
import { silentLogger, type DbLogger } from "./db-logger.js";
import { readMigrationFiles, scriptMatchesChecksum, type MigrationFile } from "./migration-files.js";

export const PRISMA_MIGRATE_LOCK_KEY = 72707369;
const ROLLED_BACK_MARKER = "icrl: this migration ran in a transaction that was rolled back; nothing was applied.";

export interface ApplyMigrationsOptions {
  url: string;
  migrationsDir: string;
  logger?: DbLogger;
  /** How long to wait for another process that is migrating the same database. Default 60 s. */
  lockTimeoutMs?: number;
}

export interface ApplyMigrationsResult {
  /** Migrations applied by this call, in order. */
  applied: string[];
  /** Migrations found already applied. */
  alreadyApplied: string[];
}

export class MigrationError extends Error {
  constructor(
    message: string,
    readonly migrations: string[] = [],
  ) {
    super(message);
    this.name = "MigrationError";
  }
}

interface HistoryRow {
  id: string;
  checksum: string;
  migration_name: string;
  logs: string | null;
  started_at: Date;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

export async function applyMigrations(options: ApplyMigrationsOptions): Promise<ApplyMigrationsResult> {
  const logger = options.logger ?? silentLogger;
  const migrations = await readMigrationFiles(options.migrationsDir);
  if (migrations.length === 0) logger.warn({ migrationsDir: options.migrationsDir }, "no migrations found");

  const client = new pg.Client({ ...pgConfigFor(options.url), application_name: "icrl-migrate" });
  client.on("error", (error) => logger.warn({ err: error }, "migration connection error"));
  await client.connect();
  try {
    await lockMigrations(client, options.lockTimeoutMs ?? 60_000);
    try {
      return await migrateLocked(client, migrations, schemaFromUrl(options.url), logger);
    } finally {
      await client.query("SELECT pg_advisory_unlock($1)", [PRISMA_MIGRATE_LOCK_KEY]).catch(() => undefined);
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function lockMigrations(client: pg.Client, timeoutMs: number): Promise<void> {
  await client.query(`SET lock_timeout = ${Math.max(1, Math.round(timeoutMs))}`);
  try {
    await client.query("SELECT pg_advisory_lock($1)", [PRISMA_MIGRATE_LOCK_KEY]);
  } catch (error) {
    if ((error as { code?: string }).code === "55P03") {
      throw new MigrationError(
        `Timed out after ${timeoutMs} ms waiting for the migration lock: another server or \`prisma migrate\` ` +
          `is applying migrations to this database (advisory lock ${PRISMA_MIGRATE_LOCK_KEY}).`,
      );
    }
    throw error;
  } finally {
    await client.query("RESET lock_timeout");
  }
}

async function migrateLocked(
  client: pg.Client,
  migrations: MigrationFile[],
  schema: string | undefined,
  logger: DbLogger,
): Promise<ApplyMigrationsResult> {
  if (schema) await client.query(`CREATE SCHEMA IF NOT EXISTS ${client.escapeIdentifier(schema)}`);
  // Prisma's definition, column for column.
  await client.query(`CREATE TABLE IF NOT EXISTS _prisma_migrations (
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             TIMESTAMPTZ,
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          TIMESTAMPTZ,
    started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_steps_count     INTEGER NOT NULL DEFAULT 0
  )`);
  const history = (
    await client.query<HistoryRow>(
      `SELECT id, checksum, migration_name, logs, started_at, finished_at, rolled_back_at
         FROM _prisma_migrations WHERE rolled_back_at IS NULL ORDER BY started_at`,
    )
  ).rows;

  const applied = new Map(history.filter((row) => row.finished_at !== null).map((row) => [row.migration_name, row]));
  const edited = migrations.filter((m) => applied.has(m.name) && !scriptMatchesChecksum(m.sql, applied.get(m.name)!.checksum));
  if (edited.length > 0) {
    const names = edited.map((m) => m.name);
    throw new MigrationError(
      `Migration${names.length > 1 ? "s" : ""} ${names.join(", ")} ${names.length > 1 ? "were" : "was"} modified after being ` +
        `applied to this database (checksum mismatch). Restore the original migration.sql (see version control) ` +
        `and put new schema changes in a new migration (npm run migration:create -- <name>).`,
      names,
    );
  }
  await settleFailedMigrations(client, history, logger);
  const local = new Set(migrations.map((m) => m.name));
  const unknown = [...applied.keys()].filter((name) => !local.has(name));
  if (unknown.length > 0) {
    logger.warn({ migrations: unknown }, "database has migrations this code does not know (is the code older than the database?)");
  }

  const result: ApplyMigrationsResult = { applied: [], alreadyApplied: migrations.filter((m) => applied.has(m.name)).map((m) => m.name) };
  for (const migration of migrations.filter((m) => !applied.has(m.name))) {
    const started = Date.now();
    await applyOne(client, migration);
    result.applied.push(migration.name);
    logger.info({ migration: migration.name, ms: Date.now() - started }, "migration applied");
  }
  return result;
}

/**
 * A failed row blocks further migrations, as in Prisma. Ours are provably clean (rolled back), so
 * they are marked rolled back and retried; others need a human.
 */
async function settleFailedMigrations(client: pg.Client, history: HistoryRow[], logger: DbLogger): Promise<void> {
  const failed = history.filter((row) => row.finished_at === null);
  const foreign = failed.filter((row) => !(row.logs ?? "").startsWith(ROLLED_BACK_MARKER));
  if (foreign.length > 0) {
    const first = foreign[0];
    throw new MigrationError(
      `Migration ${first.migration_name} failed earlier (started ${first.started_at.toISOString()}) and may be partly applied:\n` +
        `${(first.logs ?? "(no log)").trim()}\n` +
        `Repair the database by hand, then mark it resolved: \`npx prisma migrate resolve --rolled-back ${first.migration_name}\` ` +
        `(or UPDATE _prisma_migrations SET rolled_back_at = now() WHERE migration_name = '${first.migration_name}' AND finished_at IS NULL) ` +
        `and start again.`,
      foreign.map((row) => row.migration_name),
    );
  }
  for (const row of failed) {
    await client.query("UPDATE _prisma_migrations SET rolled_back_at = now() WHERE id = $1", [row.id]);
    logger.warn({ migration: row.migration_name }, "retrying a migration that failed on an earlier start");
  }
}

async function applyOne(client: pg.Client, migration: MigrationFile): Promise<void> {
  const id = randomUUID();
  const startedAt = new Date();
  await client.query("BEGIN");
  try {
    await client.query(
      `INSERT INTO _prisma_migrations (id, checksum, migration_name, started_at, applied_steps_count)
       VALUES ($1, $2, $3, $4, 0)`,
      [id, migration.checksum, migration.name, startedAt],
    );
    // One simple-protocol query runs the whole multi-statement script, as Prisma does.
    await client.query(migration.sql);
    await client.query("UPDATE _prisma_migrations SET finished_at = now(), applied_steps_count = 1 WHERE id = $1", [id]);
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    const detail = describeSqlError(error, migration.sql);
    await client
      .query(
        `INSERT INTO _prisma_migrations (id, checksum, migration_name, logs, started_at, applied_steps_count)
       VALUES ($1, $2, $3, $4, $5, 0)`,
        [id, migration.checksum, migration.name, `${ROLLED_BACK_MARKER}\n${detail}`, startedAt],
      )
      .catch(() => undefined);
    throw new MigrationError(
      `Migration ${migration.name} failed and was rolled back (nothing from it was applied): ${detail}\n` +
        `Fix prisma/migrations/${migration.name}/migration.sql; it is retried on the next start.`,
      [migration.name],
    );
  }
}

function describeSqlError(error: unknown, sql: string): string {
  const e = error as pg.DatabaseError;
  const parts = [e.message ?? String(error)];
  if (e.detail) parts.push(`DETAIL: ${e.detail}`);
  if (e.hint) parts.push(`HINT: ${e.hint}`);
  const position = Number(e.position);
  if (Number.isInteger(position) && position > 0) {
    const before = sql.slice(0, position - 1);
    const lineNumber = before.split("\n").length;
    parts.push(`at line ${lineNumber}: ${sql.split("\n")[lineNumber - 1]?.trim() ?? ""}`);
  }
  return parts.join("\n");
}
