// Keyset pagination helpers. Cursors are opaque to clients (base64url of the sort key).

export function encodeCursor(parts: (string | number | bigint)[]): string {
  return Buffer.from(JSON.stringify(parts.map(String))).toString("base64url");
}

export function decodeCursor(cursor: string | null | undefined): string[] | null {
  if (!cursor) return null;
  try {
    const parts = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (Array.isArray(parts) && parts.every((p) => typeof p === "string")) return parts;
  } catch {
    /* fall through */
  }
  return null;
}

export const MAX_PAGE = 1000;

export function pageSize(first: number | null | undefined, fallback = 50, max = MAX_PAGE): number {
  const n = first ?? fallback;
  return Math.max(0, Math.min(max, n));
}

export interface Page<T> {
  nodes: T[];
  pageInfo: { endCursor: string | null; hasNextPage: boolean };
}

/** Given up to `take + 1` rows, trim and build pageInfo with the cursor of the last row kept. */
export function toPage<T>(rows: T[], take: number, cursorOf: (row: T) => (string | number | bigint)[]): Page<T> {
  const hasNextPage = rows.length > take;
  const nodes = hasNextPage ? rows.slice(0, take) : rows;
  const last = nodes[nodes.length - 1];
  return { nodes, pageInfo: { endCursor: last ? encodeCursor(cursorOf(last)) : null, hasNextPage } };
}
