// GraphQL errors with a stable `extensions.code` and a message a person can act on.
import { GraphQLError } from "graphql";

export type ErrorCode =
  | "UNAUTHENTICATED"
  | "FORBIDDEN"
  | "BAD_USER_INPUT"
  | "NOT_FOUND"
  | "CONFLICT"
  | "PAYLOAD_TOO_LARGE"
  | "QUERY_TOO_COMPLEX"
  | "DATABASE_UNAVAILABLE"
  | "INTERNAL_SERVER_ERROR";

export interface FieldError {
  path: string;
  message: string;
}

export function apiError(code: ErrorCode, message: string, extra: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code, ...extra } });
}

export const notFound = (what: string, id: string) => apiError("NOT_FOUND", `${what} ${id} does not exist.`);

export function badInput(message: string, fieldErrors?: FieldError[]): GraphQLError {
  return apiError("BAD_USER_INPUT", message, fieldErrors ? { fieldErrors } : {});
}

/** Postgres unique violations become CONFLICT with the caller's words for what collided. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; cause?: { code?: string }; meta?: { driverAdapterError?: { cause?: { originalCode?: string } } } };
  return e?.code === "P2002" || e?.code === "23505" || e?.cause?.code === "23505" || e?.meta?.driverAdapterError?.cause?.originalCode === "23505";
}

// Postgres error classes that mean "not reachable right now", not "your query is wrong": connection
// exceptions (08), and shutdown / crash recovery / startup (57P01-57P03).
const UNAVAILABLE_SQLSTATES = /^(08\d{3}|57P0[123])$/;
const UNAVAILABLE_NODE_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT"]);
// Prisma words some of these only in its message ("Database error. Code: `57P03`").
const UNAVAILABLE_MESSAGE =
  /Connection terminated|connect ECONNREFUSED|the database system is (starting up|shutting down|in recovery mode|not yet accepting connections)|Can't reach database server|Code: `(08\d{3}|57P0[123])`/i;

/** Whether a resolver's failure is the database being away (a Postgres restart, a lost connection). */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e = err as Record<string, unknown> | undefined, depth = 0; e && depth < 6; depth++) {
    const code = (e.code ?? (e.meta as { driverAdapterError?: { cause?: { originalCode?: string } } })?.driverAdapterError?.cause?.originalCode) as
      | string
      | undefined;
    if (typeof code === "string" && (UNAVAILABLE_SQLSTATES.test(code) || UNAVAILABLE_NODE_CODES.has(code))) return true;
    if (typeof e.message === "string" && UNAVAILABLE_MESSAGE.test(e.message)) return true;
    e = (e.cause ?? e.originalError) as Record<string, unknown> | undefined;
  }
  return false;
}

export const DATABASE_UNAVAILABLE_MESSAGE = "The database is unavailable right now (restarting or unreachable); retry in a few seconds.";
