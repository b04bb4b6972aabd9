// Keyset pagination helpers. Cursors are opaque to clients (base64url of the sort key). A cursor
// this list did not hand out, or a negative `first`, is the client's mistake and is said so
// (BAD_USER_INPUT): silently restarting from the beginning would make a paging loop repeat or spin.
import { badInput } from "../errors.js";

export function encodeCursor(parts: (string | number | bigint)[]): string {
  return Buffer.from(JSON.stringify(parts.map(String))).toString("base64url");
}

/** What each part of a list's sort key is: a timestamp, a row id or a sequence number. */
export type CursorPart = "time" | "id" | "int";

/** The cursor shape of lists ordered by (createdAt, id). */
export const TIME_ID: CursorPart[] = ["time", "id"];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PART_OK: Record<CursorPart, (s: string) => boolean> = {
  time: (s) => /^\d{4}-\d\d-\d\dT/.test(s) && !Number.isNaN(Date.parse(s)),
  id: (s) => UUID.test(s),
  int: (s) => /^-?\d{1,19}$/.test(s) && BigInt(s) <= 9223372036854775807n && BigInt(s) >= -1n,
};

/** The sort key inside `cursor` (null: from the start); anything this list could not have made is refused. */
export function decodeCursor(cursor: string | null | undefined, shape: CursorPart[]): string[] | null {
  if (cursor == null) return null;
  let parts: unknown = null;
  try {
    parts = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    /* reported below */
  }
  if (!Array.isArray(parts) || parts.length !== shape.length || !parts.every((p, i) => typeof p === "string" && PART_OK[shape[i]](p))) {
    throw badInput(
      `after ${JSON.stringify(cursor.length > 60 ? `${cursor.slice(0, 60)}…` : cursor)} is not a cursor of this list: pass the pageInfo.endCursor of a previous page of the same query (subscription cursors are not page cursors).`,
      [{ path: "after", message: "not a cursor of this list" }],
    );
  }
  return parts as string[];
}

export const MAX_PAGE = 1000;

/** Rows to return: `first` (0 asks for totalCount alone), at most `max`; negative is refused. */
export function pageSize(first: number | null | undefined, fallback = 50, max = MAX_PAGE): number {
  if (first != null && first < 0) throw badInput(`first must be 0 or more, got ${first}.`, [{ path: "first", message: "must be 0 or more" }]);
  return Math.min(max, first ?? fallback);
}

/** Whether rows beyond this page exist, given up to `take + 1` fetched; a page of 0 (a count) never claims a next one. */
export const hasMoreRows = (fetched: number, take: number) => take > 0 && fetched > take;

export interface Page<T> {
  nodes: T[];
  pageInfo: { endCursor: string | null; hasNextPage: boolean };
}

/** Given up to `take + 1` rows, trim and build pageInfo with the cursor of the last row kept. */
export function toPage<T>(rows: T[], take: number, cursorOf: (row: T) => (string | number | bigint)[]): Page<T> {
  const hasNextPage = hasMoreRows(rows.length, take);
  const nodes = rows.slice(0, take);
  const last = nodes[nodes.length - 1];
  return { nodes, pageInfo: { endCursor: last ? encodeCursor(cursorOf(last)) : null, hasNextPage } };
}
