// The escape suite: model code trying to leave the real bubblewrap sandbox or exhaust the machine. Every
// attempt must be contained, come back as a tool error with the right code, leave no process behind,
// and leave the tool working for the next call.
import { once } from "node:events";
import { createServer, type Server, type Socket } from "node:net";
import { networkInterfaces } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { LocalPythonTool } from "../../worker/tools/python/local-python-tool.js";
import type { ToolResult } from "../../worker/tools/types.js";
import { processesOfUids, projectRoot, runningAsRoot } from "./helpers.js";

// A uid range of its own, so leftover checks do not see sandboxes of test files running in parallel.
const UID_BASE = 61_000;
const SLOTS = 2;
const TIMEOUT_S = 2;
const tool = new LocalPythonTool({ slots: SLOTS, uidBase: UID_BASE, limits: { timeoutS: TIMEOUT_S } });
// Fork bombs run until the clock stops them; on a loaded machine they need a moment to reach the limit.
const bombTool = new LocalPythonTool({ slots: 1, uidBase: UID_BASE, limits: { timeoutS: 4 } });

async function expectContained(result: ToolResult, code: string): Promise<void> {
  expect(result.ok).toBe(false);
  expect(result.error?.code).toBe(code);
  expect(result.observation).toContain(`[error ${code}]`);
}

afterEach(async () => {
  // Each call must end with everything it started: no process, not even a zombie, of the sandbox uids.
  if (runningAsRoot) expect(processesOfUids(UID_BASE, SLOTS)).toEqual([]);
  const after = await tool.call("print(6 * 7)");
  expect(after).toMatchObject({ ok: true, observation: "42" });
});

describe("the local Python sandbox contains escape attempts", () => {
  let server: Server;
  let port: number;
  const accepted: Socket[] = [];

  beforeAll(async () => {
    server = createServer((socket) => {
      accepted.push(socket);
      socket.end("host secret\n");
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => server.close());

  it("cannot read the host's /etc/passwd", async () => {
    const result = await tool.call("print(open('/etc/passwd').read())");
    await expectContained(result, "RUNTIME_ERROR");
    expect(result.observation).toContain("FileNotFoundError");
    expect(result.observation).not.toContain("root:");
  });

  it("cannot read the project's files by absolute path", async () => {
    const file = path.join(projectRoot, "package.json");
    const result = await tool.call(`print(open(${JSON.stringify(file)}).read())`);
    await expectContained(result, "RUNTIME_ERROR");
    expect(result.observation).toContain("FileNotFoundError");
    expect(result.observation).not.toContain("icrl-lab");
  });

  it("cannot write outside its tmpfs", async () => {
    const result = await tool.call("open('/usr/lib/evil.py', 'w').write('x')");
    await expectContained(result, "FORBIDDEN");
    expect(result.observation).toContain("Read-only file system");
  });

  it("cannot reach a TCP server listening on the host's 127.0.0.1", async () => {
    const result = await tool.call(`import socket\ns = socket.create_connection(("127.0.0.1", ${port}), timeout=2)\nprint(s.recv(100))`);
    await expectContained(result, "FORBIDDEN");
    expect(result.observation).toContain("Connection refused");
    expect(result.observation).not.toContain("host secret");
    expect(accepted).toHaveLength(0);
  });

  it("cannot reach the host through its other addresses or resolve names", async () => {
    const hostAddresses = Object.values(networkInterfaces())
      .flat()
      .filter((address) => address && address.family === "IPv4" && !address.internal)
      .map((address) => address!.address);
    const targets = [...hostAddresses, "example.com"];
    const code = `import socket
errors = []
for host in ${JSON.stringify(targets)}:
    try:
        socket.create_connection((host, ${port}), timeout=2)
        print("CONNECTED", host)
    except OSError as error:
        errors.append(error)
print([str(error) for error in errors])
raise errors[-1]`;
    const result = await tool.call(code);
    await expectContained(result, "FORBIDDEN");
    expect(result.observation).toContain("name resolution");
    for (const _address of hostAddresses) expect(result.observation).toContain("Network is unreachable");
    expect(result.observation).not.toContain("CONNECTED");
    expect(accepted).toHaveLength(0);
  });

  it("stops a fork bomb at the process limit", async () => {
    const result = await bombTool.call("import os\nwhile True:\n    os.fork()");
    await expectContained(result, "PROCESS_LIMIT");
  });

  it("recognises a silent fork bomb that runs out the clock at the process limit", async () => {
    const result = await bombTool.call("import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass");
    await expectContained(result, "PROCESS_LIMIT");
    expect(result.observation).not.toContain("Traceback");
  });

  it("stops a 10 GB allocation at the memory limit", async () => {
    const result = await tool.call("data = bytearray(10 * 1024 ** 3)\nprint(len(data))");
    await expectContained(result, "MEMORY_LIMIT");
    expect(result.observation).toContain("MemoryError");
  });

  it("stops memory mapped step by step", async () => {
    // Anonymous mappings count against the address space without touching pages, so this stays fast.
    const result = await tool.call("import mmap\nmaps = []\nwhile True:\n    maps.append(mmap.mmap(-1, 50 * 1024 ** 2))");
    await expectContained(result, "MEMORY_LIMIT");
    expect(result.observation).toContain("Cannot allocate memory");
  });

  it("kills an infinite loop at the wall-clock limit", async () => {
    const started = performance.now();
    const result = await tool.call("while True:\n    pass");
    await expectContained(result, "TIMEOUT");
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_S * 1000 - 50);
    expect(elapsed).toBeLessThan(TIMEOUT_S * 1000 + 5_000);
  });

  it("kills processes that left the session and process group", async () => {
    const result = await tool.call("import os, time\nif os.fork() == 0:\n    os.setsid()\n    time.sleep(60)\nelse:\n    time.sleep(60)");
    await expectContained(result, "TIMEOUT");
  });

  it("caps huge output without buffering it", async () => {
    // Building and encoding 100 MB strings takes seconds on a loaded machine: the time limit must not
    // fire before the output cap does.
    const patient = new LocalPythonTool({ slots: 1, uidBase: UID_BASE, limits: { timeoutS: 20 } });
    const result = await patient.call("while True:\n    print('x' * 10**8)");
    await expectContained(result, "OUTPUT_LIMIT");
    expect(result.observation.length).toBeLessThanOrEqual(tool.limits.observationChars);
    expect(result.observation.startsWith("xxxx")).toBe(true);
  });

  it("sees none of the worker's environment", async () => {
    process.env.ICRL_TEST_SECRET = "leak-me";
    try {
      const result = await tool.call("import os\nprint(sorted(os.environ))");
      expect(result.ok).toBe(true);
      expect(result.observation).not.toContain("ICRL_TEST_SECRET");
      expect(JSON.parse(result.observation.replace(/'/g, '"'))).toEqual(["HOME", "LANG", "MALLOC_ARENA_MAX", "PATH", "PWD"]);
    } finally {
      delete process.env.ICRL_TEST_SECRET;
    }
  });

  it("runs as an unprivileged uid of its own slot", async () => {
    const result = await tool.call("import os\nprint(os.getuid(), os.listdir('/'))");
    expect(result.ok).toBe(true);
    const [uid] = result.observation.split(" ");
    if (runningAsRoot) expect([UID_BASE, UID_BASE + 1]).toContain(Number(uid));
    else expect(Number(uid)).toBe(process.getuid?.());
    expect(result.observation).not.toMatch(/'(home|root|work|var|etc\/passwd)'/);
  });
});
