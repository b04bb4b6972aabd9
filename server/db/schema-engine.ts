// Prisma's schema engine compiled to WebAssembly (@prisma/schema-engine-wasm), driven through
// @prisma/adapter-pg: it diffs a migrations folder against schema.prisma with no native binary, so
// migrations can be generated offline. DEV TOOLING ONLY (scripts/create-migration.ts): this is an
// internal Prisma API, pinned to exact versions in package.json; the server never loads it.
// Loading follows the package's "bundler" target by hand, because Node 20 cannot import .wasm
// as an ES module.
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import pg from "pg";
import { PrismaPg } from "@prisma/adapter-pg";
import { bindMigrationAwareSqlAdapterFactory, type SqlMigrationAwareDriverAdapterFactory } from "@prisma/driver-adapter-utils";
import type { DiagnoseMigrationHistoryOutput, MigrationList, SchemaEngine } from "@prisma/schema-engine-wasm";
import { MIGRATION_LOCK_CONTENT, MIGRATION_LOCK_FILE, readMigrationFiles } from "./migration-files.js";

let engineClass: Promise<typeof SchemaEngine> | undefined;

function loadEngineClass(): Promise<typeof SchemaEngine> {
  engineClass ??= (async () => {
    const globals = globalThis as { PRISMA_WASM_PANIC_REGISTRY?: unknown };
    // The wasm glue reports Rust panics into this global; without it a panic turns into a TypeError.
    globals.PRISMA_WASM_PANIC_REGISTRY ??= {
      message: "",
      set_message(this: { message: string }, message: string) {
        this.message = `RuntimeError: ${message}`;
      },
      get(this: { message: string }) {
        return this.message;
      },
    };
    const glue = await import("@prisma/schema-engine-wasm/schema_engine_bg");
    const require = createRequire(import.meta.url);
    const wasmFile = path.join(path.dirname(require.resolve("@prisma/schema-engine-wasm")), "schema_engine_bg.wasm");
    const imports: Record<string, unknown> = { ...glue };
    // The engine arms a 10 s timer that would keep our process alive after the work is done.
    for (const key of Object.keys(imports)) {
      if (key.startsWith("__wbg_setTimeout_")) {
        imports[key] = (callback: () => void, ms: number) => setTimeout(callback, ms >>> 0).unref();
      }
    }
    const instance = new WebAssembly.Instance(new WebAssembly.Module(await fs.promises.readFile(wasmFile)), {
      "./schema_engine_bg.js": imports as WebAssembly.ModuleImports,
    });
    glue.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
    return glue.SchemaEngine;
  })();
  return engineClass;
}

/**
 * node-postgres client that reports Postgres' internal one-byte "char" type (OID 18, used by the
 * catalog columns the engine reads, e.g. pg_class.relkind) as text: adapter-pg rejects it otherwise.
 */
class CatalogFriendlyClient extends pg.Client {
  override query(...args: unknown[]): any {
    const first = args[0] as { submit?: unknown } | undefined;
    if (first && typeof first.submit === "function") return (super.query as (...a: unknown[]) => unknown)(...args);
    const callback = typeof args[args.length - 1] === "function" ? (args.pop() as (e: unknown, r?: unknown) => void) : undefined;
    const result = (super.query as (...a: unknown[]) => Promise<unknown>)(...args).then(relabelCharColumns);
    if (!callback) return result;
    result.then(
      (r) => callback(null, r),
      (e) => callback(e),
    );
    return undefined;
  }
}

const CHAR_OID = 18;
const TEXT_OID = 25;

function relabelCharColumns(result: unknown): unknown {
  for (const one of Array.isArray(result) ? result : [result]) {
    for (const field of (one as pg.QueryResult | undefined)?.fields ?? []) {
      if (field.dataTypeID === CHAR_OID) field.dataTypeID = TEXT_OID;
    }
  }
  return result;
}

/**
 * The engine's connections: `mainUrl`, and `shadowUrl` (created and dropped by the caller) if any.
 * Every adapter handed out is remembered so its pool can be closed when the work is done.
 */
function adapterFactory(
  mainUrl: string,
  shadowUrl: string | undefined,
  opened: Array<{ dispose(): Promise<void> }>,
): SqlMigrationAwareDriverAdapterFactory {
  const main = new PrismaPg({ connectionString: mainUrl, Client: CatalogFriendlyClient } as pg.PoolConfig);
  const shadow = shadowUrl ? new PrismaPg({ connectionString: shadowUrl, Client: CatalogFriendlyClient } as pg.PoolConfig) : undefined;
  const track = async <T extends { dispose(): Promise<void> }>(adapter: Promise<T>) => {
    const a = await adapter;
    opened.push(a);
    return a;
  };
  return {
    provider: main.provider,
    adapterName: main.adapterName,
    connect: () => track(main.connect()),
    connectToShadowDb: () => (shadow ? track(shadow.connect()) : Promise.reject(new Error("no shadow database configured"))),
  };
}

async function migrationsListFor(migrationsDir: string): Promise<MigrationList> {
  const migrations = await readMigrationFiles(migrationsDir);
  return {
    baseDir: path.resolve(migrationsDir),
    lockfile: { path: MIGRATION_LOCK_FILE, content: MIGRATION_LOCK_CONTENT },
    shadowDbInitScript: "",
    migrationDirectories: migrations.map((m) => ({
      path: m.name,
      migrationFile: { path: "migration.sql", content: { tag: "ok" as const, value: m.sql } },
    })),
  };
}

async function withEngine<T>(mainUrl: string, shadowUrl: string | undefined, work: (engine: SchemaEngine) => Promise<T>): Promise<T> {
  const Engine = await loadEngineClass();
  const opened: Array<{ dispose(): Promise<void> }> = [];
  const adapter = bindMigrationAwareSqlAdapterFactory(adapterFactory(mainUrl, shadowUrl, opened));
  const engine = await Engine.new({ datamodels: undefined }, () => undefined, adapter);
  try {
    return await work(engine);
  } finally {
    engine.free();
    // The engine may already have closed some; closing twice is harmless here.
    await Promise.all(opened.map((a) => a.dispose().catch(() => undefined)));
  }
}

export interface DiffOptions {
  migrationsDir: string;
  schemaPath: string;
  /** An empty, disposable database: the engine replays the migrations into it. */
  shadowUrl: string;
}

/** SQL that brings a database migrated with `migrationsDir` to `schemaPath`; null when already equal. */
export async function diffMigrationsToSchema(options: DiffOptions): Promise<string | null> {
  const migrationsList = await migrationsListFor(options.migrationsDir);
  const schema = await fs.promises.readFile(options.schemaPath, "utf8");
  // Both connections go to the shadow database: a diff never needs anything else.
  return withEngine(options.shadowUrl, options.shadowUrl, async (engine) => {
    const result = await engine.diff({
      from: { tag: "migrations", ...migrationsList },
      to: { tag: "schemaDatamodel", files: [{ path: options.schemaPath, content: schema }] },
      script: true,
      exitCode: true, // 2 = differences found
      filters: { externalTables: [], externalEnums: [] },
    });
    return result.exitCode === 2 ? (result.stdout ?? "") : null;
  });
}

/** Prisma Migrate's own reading of a database's migration history (what `prisma migrate status` reports). */
export async function diagnoseMigrationHistory(options: { url: string; migrationsDir: string }): Promise<DiagnoseMigrationHistoryOutput> {
  const migrationsList = await migrationsListFor(options.migrationsDir);
  return withEngine(options.url, undefined, (engine) =>
    engine.diagnoseMigrationHistory({ migrationsList, optInToShadowDatabase: false, filters: { externalTables: [], externalEnums: [] } }),
  );
}
