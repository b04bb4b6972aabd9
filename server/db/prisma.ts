// Prisma Client over node-postgres (@prisma/adapter-pg): Prisma 7's query engine runs in-process,
// so no native engine binary is needed at run time.
import { PrismaPg } from "@prisma/adapter-pg";
import type pg from "pg";
import { PrismaClient } from "../generated/prisma/client.js";
import { pgConfigFor, schemaFromUrl } from "./connection-config.js";

export { PrismaClient };

export interface PrismaClientOptions {
  /** Connections in the client's own pool (when given a URL). Default 10. */
  poolSize?: number;
  /** Postgres schema for generated queries when given a pool (a URL's `?schema=` is read from it). */
  schema?: string;
}

/**
 * From a URL the client owns its pool (closed by $disconnect). From a pg.Pool it shares that pool
 * and leaves closing it to the caller.
 */
export function createPrismaClient(source: string | pg.Pool, options: PrismaClientOptions = {}): PrismaClient {
  const adapter =
    typeof source === "string"
      ? new PrismaPg(pgConfigFor(source, { max: options.poolSize ?? 10 }), { schema: schemaFromUrl(source) })
      : new PrismaPg(source, { schema: options.schema });
  return new PrismaClient({ adapter });
}
