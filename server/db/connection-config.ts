// Prisma URLs may carry `?schema=name` (Prisma's own parameter; node-postgres ignores it). Honour
// it everywhere, so tables land where `prisma migrate` would put them and all clients agree.
import type pg from "pg";

export function schemaFromUrl(url: string): string | undefined {
  try {
    return new URL(url).searchParams.get("schema") || undefined;
  } catch {
    return undefined;
  }
}

/** node-postgres config for `url`, with search_path set to the URL's `schema` when present. */
export function pgConfigFor(url: string, extra: pg.PoolConfig = {}): pg.PoolConfig {
  const schema = schemaFromUrl(url);
  const options = schema ? `-c search_path=${schema.replace(/([\\ ])/g, "\\$1")}` : undefined;
  return { connectionString: url, ...(options ? { options } : {}), ...extra };
}
