// Plumbing every client command shares: --server/--token/--json options, a connected SDK client,
// usage errors that exit 2, and one place that turns any error into a message and an exit code.
import type { Command } from "commander";
import { type IcrlClient, IcrlApiError, IcrlNetworkError } from "../../client-sdk/src/index.js";
import { CliError, EXIT, EXIT_CODES_HELP, exitCodeForApiCode, type ExitCode } from "./exit-codes.js";
import { styleFor } from "./style.js";

export const DEFAULT_SERVER = "http://localhost:4000";

export interface ConnectionOptions {
  server?: string;
  token?: string;
  json?: boolean;
}

const documented = new WeakSet<Command>();

/** Adds the exit-code table to `icrl --help` once, whichever client command registers first. */
export function documentExitCodes(program: Command): void {
  if (documented.has(program)) return;
  documented.add(program);
  program.addHelpText("after", EXIT_CODES_HELP);
}

/**
 * A command group (`icrl run`, `icrl experiment`): its subcommands inherit the exit override, so a
 * usage error anywhere below exits 2 rather than commander's default 1.
 */
export function commandGroup(program: Command, name: string, description: string): Command {
  documentExitCodes(program);
  return program
    .command(name)
    .description(description)
    .exitOverride((err) => process.exit(err.exitCode === 0 ? EXIT.OK : EXIT.BAD_INPUT))
    .addHelpText("after", `\nExit codes: 0 ok, 1 failed, 2 bad input, 3 not found, 4 not allowed, 5 server unreachable (see icrl --help).`);
}

/** --server, --token and --json on a leaf command (options follow the subcommand: enablePositionalOptions). */
export function withConnection(cmd: Command, options: { json?: boolean } = { json: true }): Command {
  cmd.option("--server <url>", `server URL (default: $ICRL_SERVER or ${DEFAULT_SERVER})`).option("--token <key>", "API key (default: $ICRL_API_KEY)");
  if (options.json !== false) cmd.option("--json", "print JSON instead of a table");
  return cmd;
}

export async function connect(opts: ConnectionOptions): Promise<IcrlClient> {
  const url = opts.server ?? process.env.ICRL_SERVER ?? DEFAULT_SERVER;
  const token = opts.token ?? process.env.ICRL_API_KEY;
  if (!token) throw new CliError("No API key: pass --token KEY or set ICRL_API_KEY.", EXIT.AUTH, [], "UNAUTHENTICATED");
  if (!/^https?:\/\//.test(url)) throw new CliError(`--server must be an http(s) URL, got ${JSON.stringify(url)}.`, EXIT.BAD_INPUT);
  const { createClient } = await import("../../client-sdk/src/index.js");
  return createClient({ url, token });
}

interface Described {
  exitCode: ExitCode;
  code: string;
  message: string;
  details: string[];
}

export function describeError(err: unknown): Described {
  if (err instanceof CliError) return { exitCode: err.exitCode, code: err.code ?? "ERROR", message: err.message, details: err.details };
  if (err instanceof IcrlNetworkError) {
    return {
      exitCode: EXIT.UNREACHABLE,
      code: err.code,
      message: `${err.message} (is the server running? set --server or ICRL_SERVER)`,
      details: [],
    };
  }
  if (err instanceof IcrlApiError) {
    return {
      exitCode: exitCodeForApiCode(err.code),
      code: err.code,
      message: err.message,
      details: err.fieldErrors.map((f) => `${f.path}: ${f.message}`),
    };
  }
  const e = err as Error;
  return { exitCode: EXIT.FAILED, code: "ERROR", message: e?.message ?? String(err), details: [] };
}

export function reportError(err: unknown, json: boolean): ExitCode {
  const d = describeError(err);
  if (json) {
    process.stderr.write(JSON.stringify({ error: { code: d.code, message: d.message, details: d.details, exitCode: d.exitCode } }) + "\n");
  } else {
    const style = styleFor(process.stderr);
    process.stderr.write(`${style.red("error:")} ${d.message}\n${d.details.map((l) => `  ${l}\n`).join("")}`);
  }
  return d.exitCode;
}

/** Wait until what we wrote has left the process, then exit: an open WebSocket or keep-alive socket must not hold us. */
export async function exitWith(code: number): Promise<never> {
  await Promise.all([process.stdout, process.stderr].map((s) => new Promise<void>((r) => s.write("", () => r()))));
  process.exit(code);
}

/** Positional arguments as commander gives them: strings, arrays for variadic ones, undefined when omitted. */
export type Positionals = (string | string[] | undefined)[];

// biome-ignore lint/suspicious/noConfusingVoidType: most actions return nothing; a number is an exit code
type ActionFn<O> = (client: IcrlClient, opts: O, args: Positionals) => Promise<number | void>;

/**
 * Commander action for a client command: connects, runs `fn` (which returns an exit code or
 * nothing for 0), reports any error with its exit code, closes the client and exits.
 */
export function clientAction<O extends ConnectionOptions>(fn: ActionFn<O>) {
  return async (...received: unknown[]) => {
    // Commander passes the positional arguments, then the options object, then the command.
    const opts = received[received.length - 2] as O;
    const args = received.slice(0, -2) as Positionals;
    let client: IcrlClient | null = null;
    let code: number;
    try {
      client = await connect(opts);
      code = (await fn(client, opts, args)) ?? EXIT.OK;
    } catch (err) {
      code = reportError(err, Boolean(opts.json));
    }
    await client?.close().catch(() => {});
    await exitWith(code);
  };
}
