// The SandboxFusion client against a small real HTTP server that speaks SandboxFusion's /run_code wire
// format and really runs the (trusted, test-only) code with python3 under the requested limits.
import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SandboxFusionTool } from "../../worker/tools/python/sandbox-fusion.js";
import { closedPort, readJsonBody, sendJson, startHttpServer, type RunningServer } from "./helpers.js";

interface RunCodeRequest {
  code: string;
  language: string;
  run_timeout: number;
  memory_limit_MB: number;
}

/** Runs the code as SandboxFusion would report it: Finished or TimeLimitExceeded, with real output. */
function runLikeSandboxFusion(request: RunCodeRequest): Promise<unknown> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn("prlimit", [`--as=${request.memory_limit_MB * 1024 * 1024}`, "--", "/usr/bin/python3", "-I", "-c", request.code], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, request.run_timeout * 1000);
    child.on("close", (code) => {
      clearTimeout(timer);
      const runResult = {
        status: timedOut ? "TimeLimitExceeded" : "Finished",
        execution_time: (performance.now() - started) / 1000,
        return_code: timedOut ? null : code,
        stdout,
        stderr,
      };
      resolve({
        status: !timedOut && code === 0 ? "Success" : "Failed",
        message: "",
        compile_result: null,
        run_result: runResult,
        executor_pod_name: null,
        files: {},
      });
    });
  });
}

let server: RunningServer;
const received: RunCodeRequest[] = [];

beforeAll(async () => {
  server = await startHttpServer(async (request, response) => {
    if (request.method === "POST" && request.url === "/run_code") {
      const body = (await readJsonBody(request)) as RunCodeRequest;
      received.push(body);
      sendJson(response, await runLikeSandboxFusion(body));
    } else if (request.url === "/broken/run_code") {
      sendJson(response, { status: "SandboxError", message: "executor crashed", run_result: null });
    } else if (request.url === "/internal/run_code") {
      // The executor fails and still fills run_result with its own internal error.
      sendJson(response, {
        status: "SandboxError",
        message: "Too many open files",
        run_result: { status: "Error", stdout: "", stderr: "OSError: [Errno 24] Too many open files: '/tmp/sandbox'", return_code: null },
      });
    } else if (request.url === "/error500/run_code") {
      response.writeHead(500).end("internal error");
    } else if (request.url === "/slow/run_code") {
      // never answers; the client's deadline must fire
    } else {
      response.writeHead(404).end();
    }
  });
});
afterAll(() => server.close());

describe("SandboxFusion client", () => {
  const tool = () => new SandboxFusionTool({ url: server.url, limits: { timeoutS: 2, memoryMb: 256 } });

  it("sends SandboxFusion's request and returns stdout", async () => {
    const result = await tool().call("print(sum(range(101)))");
    expect(result).toMatchObject({ ok: true, observation: "5050" });
    expect(received.at(-1)).toEqual({ code: "print(sum(range(101)))", language: "python", run_timeout: 2, memory_limit_MB: 256 });
  });

  it("formats stderr and tracebacks like the local sandbox", async () => {
    const result = await tool().call("import sys\nprint('out')\nprint('note', file=sys.stderr)\nraise ValueError('bad value')");
    expect(result.error).toEqual({ code: "RUNTIME_ERROR", message: "ValueError: bad value" });
    expect(result.observation).toMatch(/^out\n\[stderr\]\nnote\nTraceback/);
    expect(result.observation).toContain("[error RUNTIME_ERROR] ValueError: bad value");
  });

  it("maps TimeLimitExceeded to TIMEOUT", async () => {
    const result = await tool().call("while True:\n    pass");
    expect(result.error?.code).toBe("TIMEOUT");
  });

  it("maps a MemoryError under the server's memory limit to MEMORY_LIMIT", async () => {
    const result = await tool().call("x = bytearray(2 * 1024 ** 3)");
    expect(result.error?.code).toBe("MEMORY_LIMIT");
  });

  it("caps output the server sends back", async () => {
    const result = await tool().call("print('y' * 100_000)");
    expect(result.error?.code).toBe("OUTPUT_LIMIT");
    expect(result.observation.length).toBeLessThanOrEqual(16_384);
  });

  it("accepts a URL that already names /run_code", async () => {
    const direct = new SandboxFusionTool({ url: `${server.url}/run_code` });
    expect(await direct.call("print('direct')")).toMatchObject({ ok: true, observation: "direct" });
  });

  it("turns a server-side sandbox error into UNAVAILABLE", async () => {
    const result = await new SandboxFusionTool({ url: `${server.url}/broken` }).call("print(1)");
    expect(result.error?.code).toBe("UNAVAILABLE");
    expect(result.error?.message).toContain("executor crashed");
  });

  it("a SandboxError that carries a run_result is still the sandbox's failure, never the program's output", async () => {
    const result = await new SandboxFusionTool({ url: `${server.url}/internal` }).call("print(1)");
    expect(result.ok).toBe(false);
    expect(result.error).toEqual({
      code: "UNAVAILABLE",
      message: "the SandboxFusion server failed to run the code (SandboxError: Too many open files)",
    });
    expect(result.observation).not.toContain("OSError");
    expect(result.observation).not.toContain("[stderr]");
  });

  it("turns an HTTP error into UNAVAILABLE", async () => {
    const result = await new SandboxFusionTool({ url: `${server.url}/error500` }).call("print(1)");
    expect(result.error?.code).toBe("UNAVAILABLE");
    expect(result.error?.message).toContain("HTTP 500");
  });

  it("turns a server that does not answer into TIMEOUT", async () => {
    const slow = new SandboxFusionTool({ url: `${server.url}/slow`, limits: { timeoutS: 0.3 }, requestOverheadS: 0.2 });
    const result = await slow.call("print(1)");
    expect(result.ok).toBe(false);
    expect(result.error?.code).toBe("TIMEOUT");
    expect(result.durationMs).toBeLessThan(3_000);
  });

  it("turns a closed port into UNAVAILABLE without throwing", async () => {
    const port = await closedPort();
    const result = await new SandboxFusionTool({ url: `http://127.0.0.1:${port}` }).call("print(1)");
    expect(result.ok).toBe(false);
    expect(result.error?.code).toBe("UNAVAILABLE");
    expect(result.error?.message).toContain("ECONNREFUSED");
    expect(result.observation).toContain("[error UNAVAILABLE]");
  });
});
