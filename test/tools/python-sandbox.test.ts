// Ordinary use of the local Python tool: what the model sees for output, errors and missing stdin;
// limits of the observation; slots, abort and close; and refusing to start where the sandbox cannot work.
import { afterAll, describe, expect, it } from "vitest";
import { LocalPythonTool } from "../../worker/tools/python/local-python-tool.js";
import { findSandboxPrograms, SandboxUnavailableError } from "../../worker/tools/python/requirements.js";
import { runningAsRoot } from "./helpers.js";

const UID_BASE = 61_100;
const tool = new LocalPythonTool({ slots: 2, uidBase: UID_BASE, limits: { timeoutS: 5 } });
afterAll(() => tool.close());

describe("local Python tool: ordinary calls", () => {
  it("returns stdout as the observation", async () => {
    const result = await tool.call("for i in range(3):\n    print('line', i)");
    expect(result).toMatchObject({ ok: true, observation: "line 0\nline 1\nline 2" });
    expect(result.error).toBeUndefined();
    expect(result.durationMs).toBeGreaterThan(0);
  });

  it("labels stderr after stdout", async () => {
    const result = await tool.call("import sys\nprint('out')\nprint('warning: careful', file=sys.stderr)");
    expect(result).toMatchObject({ ok: true, observation: "out\n[stderr]\nwarning: careful" });
  });

  it("says so when the code printed nothing", async () => {
    expect(await tool.call("x = 1 + 1")).toMatchObject({ ok: true, observation: "(no output)" });
  });

  it("keeps non-ASCII text intact", async () => {
    expect(await tool.call("print('naïve café – 東京 ∑')")).toMatchObject({ ok: true, observation: "naïve café – 東京 ∑" });
  });

  it("reports an exception with its traceback and what printed before it", async () => {
    const result = await tool.call("def divide(a, b):\n    return a / b\nprint('before')\ndivide(1, 0)");
    expect(result.ok).toBe(false);
    expect(result.error).toEqual({ code: "RUNTIME_ERROR", message: "ZeroDivisionError: division by zero" });
    expect(result.observation).toMatch(/^before\n\[stderr\]\nTraceback \(most recent call last\):/);
    expect(result.observation).toContain('File "/tmp/main.py", line 2, in divide');
    expect(result.observation).toContain("[error RUNTIME_ERROR] ZeroDivisionError: division by zero");
  });

  it("reports a syntax error", async () => {
    const result = await tool.call("print('unclosed'");
    expect(result.error?.code).toBe("RUNTIME_ERROR");
    expect(result.error?.message).toMatch(/^SyntaxError/);
  });

  it("reports a silent non-zero exit", async () => {
    const result = await tool.call("import sys\nsys.exit(3)");
    expect(result.error).toEqual({ code: "RUNTIME_ERROR", message: "the code exited with status 3" });
  });

  it("gives the code no stdin", async () => {
    const read = await tool.call("import sys\nprint(repr(sys.stdin.read()))");
    expect(read).toMatchObject({ ok: true, observation: "''" });
    const input = await tool.call("name = input()");
    expect(input.error).toEqual({ code: "RUNTIME_ERROR", message: "EOFError: EOF when reading a line" });
  });

  it("lets the code use /tmp, subprocesses and the system's numpy (its BLAS comes through /etc/alternatives)", async () => {
    const code = [
      "import subprocess, numpy",
      "open('/tmp/notes.txt', 'w').write('kept')",
      "print(open('/tmp/notes.txt').read())",
      "print(subprocess.run(['echo', 'child'], capture_output=True, text=True).stdout.strip())",
      "print(int(numpy.arange(10).sum()), (numpy.eye(2) @ numpy.ones(2)).tolist())",
    ].join("\n");
    expect(await tool.call(code)).toMatchObject({ ok: true, observation: "kept\nchild\n45 [1.0, 1.0]" });
  });

  it("starts every call from a fresh sandbox", async () => {
    await tool.call("open('/tmp/state.txt', 'w').write('from the first call')");
    const second = await tool.call("import os\nprint(os.path.exists('/tmp/state.txt'))");
    expect(second.observation).toBe("False");
  });

  it("cuts a long observation in the middle without calling it an error", async () => {
    const small = new LocalPythonTool({ slots: 1, uidBase: UID_BASE + 10, limits: { observationChars: 200 } });
    const result = await small.call("print('START' + 'a' * 1000 + 'END')");
    expect(result.ok).toBe(true);
    expect(result.observation.length).toBeLessThanOrEqual(200);
    expect(result.observation).toMatch(/^STARTa+\n\.\.\.\[\d+ characters cut\]\.\.\.\na+END$/);
  });
});

describe("local Python tool: slots, abort and close", () => {
  it("runs calls concurrently up to the slot count, each slot with its own uid", async () => {
    const code = "import os, time\nstart = time.time()\ntime.sleep(1.5)\nprint(os.getuid(), start, time.time())";
    const results = await Promise.all(Array.from({ length: 4 }, () => tool.call(code)));
    const runs = results.map((result) => {
      expect(result.ok).toBe(true);
      const [uid, start, end] = result.observation.split(" ").map(Number);
      return { uid, start, end };
    });
    const overlapping = (at: number) => runs.filter((run) => run.start <= at && at < run.end);
    const mostAtOnce = Math.max(...runs.map((run) => overlapping(run.start).length));
    expect(mostAtOnce).toBe(2);
    for (const run of runs) {
      const uids = overlapping(run.start).map((other) => other.uid);
      expect(new Set(uids).size).toBe(uids.length);
      if (runningAsRoot) expect([UID_BASE, UID_BASE + 1]).toContain(run.uid);
    }
  });

  it("stops a running call when its signal aborts", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 500);
    const started = performance.now();
    const result = await tool.call("while True:\n    pass", { signal: controller.signal });
    expect(result.error).toEqual({ code: "TIMEOUT", message: "the call was aborted by the caller" });
    expect(performance.now() - started).toBeLessThan(4_000);
  });

  it("gives up a queued call when its signal aborts, and keeps serving the others", async () => {
    const single = new LocalPythonTool({ slots: 1, uidBase: UID_BASE + 20 });
    const busy = single.call("import time\ntime.sleep(1)\nprint('done')");
    const controller = new AbortController();
    const queued = single.call("print('never')", { signal: controller.signal });
    controller.abort();
    expect((await queued).error?.code).toBe("TIMEOUT");
    expect(await busy).toMatchObject({ ok: true, observation: "done" });
    expect(await single.call("print('next')")).toMatchObject({ ok: true, observation: "next" });
  });

  it("close() kills running calls", async () => {
    const closing = new LocalPythonTool({ slots: 1, uidBase: UID_BASE + 30 });
    const running = closing.call("import time\ntime.sleep(30)");
    setTimeout(() => void closing.close(), 300);
    const result = await running;
    expect(result.ok).toBe(false);
    expect(result.durationMs).toBeLessThan(5_000);
  });
});

describe("local Python tool: refusing to start", () => {
  it("names the Debian packages of missing programs", () => {
    expect(() => findSandboxPrograms("/nonexistent", [])).toThrow(SandboxUnavailableError);
    expect(() => findSandboxPrograms("/nonexistent", [])).toThrow(/bwrap \(Debian package "bubblewrap"\).*apt-get install bubblewrap util-linux/);
  });

  it("rejects an interpreter the sandbox cannot see", () => {
    expect(() => new LocalPythonTool({ pythonPath: "/opt/python/bin/python3" })).toThrow(/must be under \/usr/);
  });

  it("self-test passes here and fails where the interpreter does not run", async () => {
    await expect(tool.selfTest()).resolves.toBeUndefined();
    const broken = new LocalPythonTool({ slots: 1, uidBase: UID_BASE + 40, pythonPath: "/usr/bin/no-such-python" });
    await expect(broken.selfTest()).rejects.toThrow(/sandbox does not work.*no-such-python/);
    const result = await broken.call("print(1)");
    expect(result.error?.code).toBe("UNAVAILABLE");
  });
});
