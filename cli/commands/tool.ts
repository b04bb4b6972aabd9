// `icrl tool python|search`: one tool call, built through the same registry and with the same isolation
// and limits as a worker's call, printed as the observation the model would read. Handy for checking a
// sandbox or a corpus on a new machine before a run.
import { readFile } from "node:fs/promises";
import { type Command, InvalidArgumentError } from "commander";

const EXIT_TOOL_ERROR = 1;
const EXIT_BAD_INPUT = 2;

function positiveNumber(value: string): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) throw new InvalidArgumentError("expected a positive number");
  return number;
}

function positiveInteger(value: string): number {
  const number = positiveNumber(value);
  if (!Number.isInteger(number)) throw new InvalidArgumentError("expected a positive integer");
  return number;
}

function fail(command: string, message: string, exitCode: number): void {
  process.stderr.write(`icrl tool ${command}: ${message}\n`);
  process.exitCode = exitCode;
}

async function readCode(file: string): Promise<string> {
  if (file !== "-") return readFile(file, "utf8");
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Builds the tool from a registry config and makes one call; config problems are usage errors (exit 2). */
async function callTool(command: string, config: Record<string, unknown>, input: string): Promise<void> {
  const { buildTools } = await import("../../worker/tools/index.js");
  const { ZodError } = await import("zod");
  let tools;
  try {
    // The call itself shows whether the sandbox works; a self-test would only run the sandbox twice.
    tools = await buildTools({ [command]: config }, { selfTest: false });
  } catch (error) {
    // A bad option, a missing or malformed corpus: the user's input. A sandbox that cannot run: the machine.
    const usage = error instanceof ZodError || (error as NodeJS.ErrnoException).code === "ENOENT" || (error as Error).name === "CorpusFormatError";
    fail(
      command,
      error instanceof ZodError ? error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ") : (error as Error).message,
      usage ? EXIT_BAD_INPUT : EXIT_TOOL_ERROR,
    );
    return;
  }
  try {
    const result = await tools.get(command)!.call(input);
    process.stdout.write(result.observation.endsWith("\n") ? result.observation : `${result.observation}\n`);
    if (!result.ok && result.error) fail(command, `${result.error.code}: ${result.error.message}`, EXIT_TOOL_ERROR);
  } finally {
    await tools.close();
  }
}

const usageExit = (error: { exitCode: number }) => process.exit(error.exitCode === 0 ? 0 : EXIT_BAD_INPUT);

export function register(program: Command): void {
  const tool = program.command("tool").description("run one tool call exactly as a worker would and print the observation").exitOverride(usageExit);

  tool
    .command("python")
    .description("run a Python file in the sandbox (local bubblewrap, or SandboxFusion with --url)")
    .argument("<file>", 'Python source file, or "-" for standard input')
    .option("--timeout <seconds>", "wall-clock limit", positiveNumber)
    .option("--memory-mb <mb>", "memory (address space) limit", positiveInteger)
    .option("--url <url>", "SandboxFusion server instead of the local sandbox")
    .addHelpText(
      "after",
      `
Prints the observation (stdout, then stderr under "[stderr]"). Exit codes: 0 ok; 1 the code failed or
hit a limit (the error code, e.g. TIMEOUT or MEMORY_LIMIT, and its message go to stderr); 2 bad usage.
Example:
  echo 'print(sum(range(10)))' | icrl tool python -`,
    )
    .exitOverride(usageExit)
    .action(async (file: string, options: { timeout?: number; memoryMb?: number; url?: string }) => {
      let code: string;
      try {
        code = await readCode(file);
      } catch (error) {
        fail("python", `cannot read ${file}: ${(error as Error).message}`, EXIT_BAD_INPUT);
        return;
      }
      const limits = { timeoutS: options.timeout, memoryMb: options.memoryMb };
      const config = options.url ? { kind: "sandbox-fusion", url: options.url, ...limits } : { kind: "local", ...limits };
      await callTool("python", config, code);
    });

  tool
    .command("search")
    .description("search a passage corpus with BM25 (or a Search-R1 retriever with --url)")
    .argument("<query>", "search query")
    .option("--corpus <file>", "passages JSONL: {id, title, text} or {id, contents} per line")
    .option("--url <url>", "Search-R1 retrieval server instead of a local corpus")
    .option("--top-k <k>", "passages to return (default 3)", positiveInteger)
    .option("--max-tokens <n>", "token budget of the observation (default 500)", positiveInteger)
    .option("--cache-dir <dir>", "index cache directory (default .icrl/cache/search)")
    .exitOverride(usageExit)
    .action(async (query: string, options: { corpus?: string; url?: string; topK?: number; maxTokens?: number; cacheDir?: string }) => {
      if ((options.corpus === undefined) === (options.url === undefined)) {
        fail("search", "give exactly one of --corpus FILE or --url URL", EXIT_BAD_INPUT);
        return;
      }
      const output = { topK: options.topK, maxTokens: options.maxTokens };
      const config = options.url
        ? { kind: "retriever", url: options.url, ...output }
        : { kind: "local", corpus: options.corpus, cacheDir: options.cacheDir, ...output };
      await callTool("search", config, query);
    });
}
