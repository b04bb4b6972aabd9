// Exit codes shared by the client commands, so scripts can tell "fix your input" from "the server
// is down" without parsing messages. Kept free of heavy imports: `icrl --help` reads EXIT_CODES_HELP.

export const EXIT = {
  OK: 0,
  FAILED: 1,
  BAD_INPUT: 2,
  NOT_FOUND: 3,
  AUTH: 4,
  UNREACHABLE: 5,
  ADDRESS_UNAVAILABLE: 6,
  DATABASE_UNREACHABLE: 7,
  DATA_DIR_IN_USE: 8,
  MISSING_REQUIREMENT: 9,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export const EXIT_CODES_HELP = `
Exit codes (client commands):
  0  ok
  1  the operation failed (server error, conflict, run finished unsuccessfully)
  2  bad usage or invalid input (unknown option, invalid file, BAD_USER_INPUT)
  3  not found (unknown id or name)
  4  not allowed (missing or invalid API key, UNAUTHENTICATED / FORBIDDEN)
  5  server unreachable

Connection: --server URL and --token KEY, or ICRL_SERVER (default http://localhost:4000) and
ICRL_API_KEY. Add --json for machine-readable output.

Exit codes (icrl server and icrl demo at start-up; 2 also means an invalid setting such as ICRL_ADMIN_KEY):
  6  cannot listen (port in use, --host not an address of this machine)
  7  database unreachable (DATABASE_URL / --database-url)
  8  the data directory is in use by another running server (stop it or pass another --data-dir)

Exit codes (icrl doctor, and icrl worker and icrl demo before they start):
  9  a required part of this machine is missing (torch, python3, Node.js version, free disk); the
     message names the command that installs it, and icrl doctor lists every check`;

/** An error the CLI reports as is: its message is for the user, its exit code is chosen. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    readonly details: string[] = [],
    readonly code?: string,
  ) {
    super(message);
    this.name = "CliError";
  }
}

export const badInput = (message: string, details: string[] = []) => new CliError(message, EXIT.BAD_INPUT, details, "BAD_USER_INPUT");
export const notFound = (message: string) => new CliError(message, EXIT.NOT_FOUND, [], "NOT_FOUND");

/** Map a server error code (IcrlApiError.code, or an artifact endpoint's error.code) to an exit code. */
export function exitCodeForApiCode(code: string | undefined): ExitCode {
  switch (code) {
    case "BAD_USER_INPUT":
    case "GRAPHQL_VALIDATION_FAILED":
    case "GRAPHQL_PARSE_FAILED":
    case "BAD_REQUEST":
    case "PAYLOAD_TOO_LARGE":
    case "QUERY_TOO_COMPLEX":
      return EXIT.BAD_INPUT;
    case "NOT_FOUND":
      return EXIT.NOT_FOUND;
    case "UNAUTHENTICATED":
    case "FORBIDDEN":
      return EXIT.AUTH;
    case "NETWORK_ERROR":
      return EXIT.UNREACHABLE;
    default:
      return EXIT.FAILED;
  }
}
