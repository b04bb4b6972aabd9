// `icrl tool` run as a child process, as a user would: observations on stdout, contained violations exit 1
// with the tool error code on stderr, usage errors exit 2.
import { execFile } from "node:child_process";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closedPort, projectRoot, runningAsRoot, searchR1Corpus } from "./helpers.js";

let workDir: string;
beforeAll(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), "icrl-tool-cli-"));
});
afterAll(() => rm(workDir, { recursive: true, force: true }));

function run(command: string, args: string[], cwd: string, stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(command, args, { cwd }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
    });
    child.stdin!.end(stdin ?? "");
  });
}

const icrlBin = path.join(projectRoot, "bin", "icrl.js");
const icrl = (args: string[], stdin?: string) => run(process.execPath, [icrlBin, ...args], workDir, stdin);

async function pythonFile(name: string, code: string): Promise<string> {
  const file = path.join(workDir, name);
  await writeFile(file, code);
  return file;
}

describe("icrl tool python", () => {
  it("prints the observation of a successful run", async () => {
    const result = await icrl(["tool", "python", await pythonFile("ok.py", "print('hello from the sandbox')")]);
    expect(result).toMatchObject({ code: 0, stdout: "hello from the sandbox\n", stderr: "" });
  });

  it("reads the code from stdin with -", async () => {
    expect(await icrl(["tool", "python", "-"], "print(6 * 7)")).toMatchObject({ code: 0, stdout: "42\n" });
  });

  it("exits 1 with the error code when a limit is hit", async () => {
    const loop = await icrl(["tool", "python", await pythonFile("loop.py", "while True:\n    pass"), "--timeout", "1"]);
    expect(loop.code).toBe(1);
    expect(loop.stderr).toBe("icrl tool python: TIMEOUT: the code exceeded the 1 s time limit\n");
    const memory = await icrl(["tool", "python", await pythonFile("mem.py", "x = bytearray(300 * 1024 ** 2)"), "--memory-mb", "128"]);
    expect(memory.code).toBe(1);
    expect(memory.stderr).toContain("MEMORY_LIMIT: the code hit the 128 MB memory limit");
    expect(memory.stdout).toContain("MemoryError");
  });

  it("works for a worker that is not root: it cannot switch uids, and the process limit still holds", async () => {
    const forkUntilRefused = [
      "import os, time",
      "kids = 0",
      "try:",
      "    while True:",
      "        if os.fork() == 0:",
      "            time.sleep(3)",
      "            os._exit(0)",
      "        kids += 1",
      "except BlockingIOError:",
      "    print(os.getuid(), kids)",
    ].join("\n");
    const nobody = ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, icrlBin];
    const result = runningAsRoot
      ? await run("setpriv", [...nobody, "tool", "python", "-"], projectRoot, forkUntilRefused)
      : await icrl(["tool", "python", "-"], forkUntilRefused);
    expect(result.code).toBe(0);
    const [uid, kids] = result.stdout.trim().split(" ").map(Number);
    expect(uid).toBe(runningAsRoot ? 65534 : process.getuid?.());
    expect(kids).toBeGreaterThan(50);
    expect(kids).toBeLessThan(64);
  });

  it("exits 2 on bad usage", async () => {
    expect((await icrl(["tool", "python", path.join(workDir, "missing.py")])).code).toBe(2);
    expect((await icrl(["tool", "python", "-", "--timeout", "soon"])).code).toBe(2);
  });
});

describe("icrl tool search", () => {
  it("prints the formatted passages and caches the index under the working directory", async () => {
    const result = await icrl(["tool", "search", "Pavia Cathedral architect", "--corpus", searchR1Corpus, "--top-k", "2"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Doc 1\(Title: "Pavia Cathedral"\) [^\n]+\nDoc 2\(Title: "Pavia Cathedral"\) [^\n]+\n$/);
    const cached = await readdir(path.join(workDir, ".icrl", "cache", "search"));
    expect(cached).toEqual([expect.stringMatching(/^searchr1_wiki18_example_corpus\.jsonl-[0-9a-f]{24}\.json$/)]);
  });

  it("exits 1 with UNAVAILABLE when the retriever is down, 2 without a corpus", async () => {
    const port = await closedPort();
    const down = await icrl(["tool", "search", "anything", "--url", `http://127.0.0.1:${port}`]);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain("UNAVAILABLE: cannot reach");
    expect((await icrl(["tool", "search", "anything"])).code).toBe(2);
    expect((await icrl(["tool", "search", "anything", "--corpus", path.join(workDir, "none.jsonl")])).code).toBe(2);
  });
});
