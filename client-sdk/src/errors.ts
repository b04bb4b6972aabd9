// Typed SDK errors: the server's `extensions.code` becomes `code`, so scripts can branch on it.
export type IcrlErrorCode =
  | "UNAUTHENTICATED"
  | "FORBIDDEN"
  | "BAD_USER_INPUT"
  | "NOT_FOUND"
  | "CONFLICT"
  | "PAYLOAD_TOO_LARGE"
  | "INTERNAL_SERVER_ERROR"
  | "DATABASE_UNAVAILABLE"
  | "GRAPHQL_VALIDATION_FAILED"
  | "BAD_REQUEST"
  | "NETWORK_ERROR"
  | string;

export interface IcrlFieldError {
  path: string;
  message: string;
}

export class IcrlApiError extends Error {
  readonly code: IcrlErrorCode;
  readonly fieldErrors: IcrlFieldError[];
  readonly status?: number;
  readonly errors: { message: string; extensions?: Record<string, unknown> }[];

  constructor(errors: { message: string; extensions?: Record<string, unknown> }[], status?: number) {
    const first = errors[0] ?? { message: "Unknown error" };
    super(first.message);
    this.name = "IcrlApiError";
    this.errors = errors;
    this.status = status;
    this.code = (first.extensions?.code as string) ?? (status && status >= 500 ? "INTERNAL_SERVER_ERROR" : "BAD_REQUEST");
    this.fieldErrors = (first.extensions?.fieldErrors as IcrlFieldError[]) ?? [];
  }
}

export class IcrlNetworkError extends Error {
  readonly code = "NETWORK_ERROR";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "IcrlNetworkError";
  }
}
