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
