// `icrl demo` (what `npm start` runs) as a real child process: it prints where to watch, trains on its
// own embedded database with a local worker, answers GraphQL with the printed admin key, stops
// cleanly on Ctrl-C in the middle of the run, and the next start reuses the data directory and
// finishes the same run.
import { spawn, type ChildProcess } from "node:child_process";
import { chmod, mkdtemp, readFile, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, DatasetsDocument, JobsDocument, RolloutsDocument, RunDocument } from "../../client-sdk/src/index.js";
import { createLogger } from "../../server/logger.js";
import { startServer } from "../../server/main.js";
import { fillPlaceholders, withOverrides } from "../../cli/demo/experiment-file.js";
import { CliError } from "../../cli/support/exit-codes.js";
import { parseRunDefinition } from "../../cli/support/run-file.js";
import { LOOKUP_TEMPLATE } from "../../cli/demo/lookup-task.js";

const PROJECT_ROOT = path.resolve(import.meta.dirname, "..", "..");
const DEMO_FILE = path.join(PROJECT_ROOT, "examples", "demo-experiment.yaml");
// A barely pre-trained model and short steps of one group of 4: the demo's machinery, not its learning
// (test/training/learning.test.ts trains the demo's model with the demo's settings).
// The whole curriculum of the demo file (4 + 4 + 12 steps).
const STEPS = 20;
const SMALL = [
  "--model-steps",
  "2",
  "--set",
  "grpo.questionsPerStep=1",
  "--set",
  "grpo.groupSize=4",
  "--set",
  "validation.size=2",
  "--threads",
  "1",
  "--gpu",
  "cpu",
];

let dir: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "icrl-demo-"));
  await chmod(dir, 0o755); // the embedded Postgres runs as another user and must reach its data dir
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  await rm(dir, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
    probe.on("error", reject);
  });
}

interface DemoProcess {
  child: ChildProcess;
  stdout(): string;
  /** Resolves with the output once `pattern` appears in stdout. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
}

function startDemo(args: string[]): DemoProcess {
  // As a user's shell would start it: vitest's NODE_ENV=test turns off Apollo's own signal handling,
  // which the demo has to cope with on Ctrl-C.
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1", ICRL_ADMIN_KEY: "" };
  delete env.NODE_ENV;
  const child = spawn(process.execPath, [path.join(PROJECT_ROOT, "bin/icrl.js"), "demo", ...args], {
    cwd: PROJECT_ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    env,
  });
  children.push(child);
  let out = "";
  let err = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    child,
    stdout: () => out,
    exited,
    waitFor: (pattern, timeoutMs = 600_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const m = out.match(pattern);
          if (m) return done(() => resolve(m));
        };
        const timer = setTimeout(() => done(() => reject(new Error(`no ${pattern} in the demo's output:\n${out}\n${err}`))), timeoutMs);
        const onExit = () => done(() => reject(new Error(`the demo exited before printing ${pattern}:\n${out}\n${err}`)));
        const done = (f: () => void) => {
          clearTimeout(timer);
          child.stdout!.off("data", check);
          child.off("exit", onExit);
          f();
        };
        child.stdout!.on("data", check);
        child.once("exit", onExit);
        check();
      }),
  };
}

describe("icrl demo", () => {
  it("examples/demo-experiment.yaml fills in to a valid run file with the 3 -> 2 -> 0 curriculum", async () => {
    const text = await readFile(DEMO_FILE, "utf8");
    const id = "6f1c2a4e-0000-4000-8000-000000000001";
    const filled = fillPlaceholders(withOverrides(text, ["maxSteps=2", "grpo.lr=0.01"]), "demo-experiment.yaml", {
      DEMO_DIR: "/data/demo",
      DATASET_ID: id,
      DEMONSTRATION_SET_ID: id,
      LOOKUP_TEMPLATE: JSON.stringify(LOOKUP_TEMPLATE),
    });
    const { config } = parseRunDefinition(filled, "demo-experiment.yaml").definition;
    expect(config.curriculum?.stages.map((s) => s.shots)).toEqual([3, 2, 0]);
    expect(config.model.path).toBe("/data/demo/tiny-lookup.gguf");
    expect(config.tools.search).toMatchObject({ kind: "local", corpus: "/data/demo/lookup-corpus.jsonl" });
    expect(config.template).toEqual(LOOKUP_TEMPLATE);
    // The demo pre-trains its model when it builds it: no warm start inside the run.
    expect(config.warmStart).toBeUndefined();
    expect(config.maxSteps).toBe(2);
    expect(config.grpo.lr).toBe(0.01);
    // The overrides keep the file's comments, and the comments keep their placeholders: they document them.
    expect(filled).toContain("# The paper's schedule");
    expect(filled).toContain("#   ${DEMO_DIR}               the demo's data directory");
    expect(filled).toContain("# The filled-in copy is written to ${DEMO_DIR}/experiment.yaml");
    expect(filled.split(JSON.stringify(LOOKUP_TEMPLATE)).length).toBe(2); // inlined once: at template:, not in the comment
    // A # inside a quoted value is not a comment; one after a value is.
    const values = { DEMO_DIR: "/d", DATASET_ID: id, DEMONSTRATION_SET_ID: id, LOOKUP_TEMPLATE: "{}" };
    expect(fillPlaceholders(`a: "x # \${DEMO_DIR}" # see \${DEMO_DIR}\nb: '#\${DATASET_ID}'`, "f.yaml", values)).toBe(
      `a: "x # /d" # see \${DEMO_DIR}\nb: '#${id}'`,
    );

    const typo = text.replace('"${DATASET_ID}"', '"${DATASET}"');
    expect(() =>
      fillPlaceholders(typo, "demo-experiment.yaml", { DEMO_DIR: "/d", DATASET_ID: id, DEMONSTRATION_SET_ID: id, LOOKUP_TEMPLATE: "{}" }),
    ).toThrow(CliError);
  });

  it("prints the URLs and key, stops cleanly on Ctrl-C mid-run, and the next start finishes the same run", { timeout: 900_000 }, async () => {
    const port = await freePort();
    const dataDir = path.join(dir, "demo");
    // Steps of the barely pre-trained model take well under a second: enough of them that the run is
    // still going when the Ctrl-C below lands.
    const first = startDemo(["--port", String(port), "--data-dir", dataDir, "--max-steps", String(STEPS), ...SMALL]);
    const [, dashboard, key] = await first.waitFor(/Dashboard\s+(\S+\?key=(\S+))/);
    expect(dashboard).toBe(`http://localhost:${port}/?key=${key}`);
    expect(first.stdout()).toContain(`GraphQL     http://localhost:${port}/graphql`);
    expect(first.stdout()).toContain(`Admin key   ${key}`);
    const [, runId] = await first.waitFor(/run watch (\S+) --server/);
    for (const generated of ["tiny-lookup.gguf", "lookup-corpus.jsonl", "lookup-dataset.jsonl"])
      expect(first.stdout()).toContain(`wrote ${generated}`);
    expect(first.stdout()).toContain("pre-training the demo's tiny model (2 steps");

    // The printed key answers GraphQL while the run trains.
    await first.waitFor(new RegExp(`step +1/${STEPS} +3-shot +reward \\d`));
    const client = createClient({ url: `http://localhost:${port}`, token: key });
    try {
      const run = (await client.query(RunDocument, { id: runId })).run!;
      expect(run.status).toBe("RUNNING");
      expect(run.experiment.name).toBe("demo");
      expect((await client.query(DatasetsDocument, { first: 10 })).datasets.nodes.map((d) => d.name)).toEqual(["lookup-demo"]);
    } finally {
      await client.close();
    }
    // Ctrl-C: the worker finishes its step, checkpoints and hands the job back; then all stops.
    first.child.kill("SIGINT");
    expect(await first.exited).toBe(0);
    expect(first.stdout()).toContain("Stopping");
    const readState = async () =>
      JSON.parse(await readFile(path.join(dataDir, "demo.json"), "utf8")) as { runId: string; datasetId: string; adminKey: string };
    const before = await readState();
    expect(before.runId).toBe(runId);

    // The next start reuses everything, continues the unfinished run from its checkpoint and exits.
    const second = startDemo(["--port", String(port), "--data-dir", dataDir, "--exit-when-done", "--threads", "1", "--gpu", "cpu"]);
    expect(await second.exited).toBe(0);
    expect(second.stdout()).toContain(`continuing run lookup-3-2-0 (${runId})`);
    expect(second.stdout()).toContain(`Admin key   ${key}`);
    expect(second.stdout()).not.toContain("wrote ");
    expect(second.stdout()).toContain(`finished at step ${STEPS}`);
    // One progress line per step it trained, in order, up to the last (none skipped or repeated).
    const printed = [...second.stdout().matchAll(new RegExp(`step +(\\d+)/${STEPS} `, "g"))].map((m) => Number(m[1]));
    expect(printed.length).toBeGreaterThan(0);
    expect(printed).toEqual(Array.from({ length: printed.length }, (_, i) => STEPS - printed.length + 1 + i));
    expect(await readState()).toEqual(before);

    // What the demo stored, read back through a server on the same data directory.
    const server = await startServer(
      { port: 0, host: "127.0.0.1", dataDir: path.join(dataDir, "pg"), artifactDir: path.join(dataDir, "artifacts"), adminKey: key },
      { logger: createLogger({ level: "silent" }), env: {} },
    );
    const reader = createClient({ url: server.url, token: key });
    try {
      const run = (await reader.query(RunDocument, { id: runId })).run!;
      expect(run.status).toBe("SUCCEEDED");
      expect(run.step).toBe(STEPS);
      const rollouts = (await reader.query(RolloutsDocument, { runId, first: 1000 })).rollouts.nodes;
      const keys = rollouts.map((r) => `${r.step}/${r.groupIndex}/${r.sampleIndex}`).sort();
      expect(keys).toEqual(
        Array.from({ length: STEPS }, (_, i) => i + 1)
          .flatMap((step) => [0, 1, 2, 3].map((sample) => `${step}/0/${sample}`))
          .sort(),
      );
      // Handed back, not failed: the interrupted attempt is not counted.
      const jobs = (await reader.query(JobsDocument, { first: 10 })).jobs.nodes.filter((j) => j.run?.id === runId);
      expect(jobs.map((j) => [j.status, j.attempts])).toEqual([["SUCCEEDED", 0]]);
    } finally {
      await reader.close();
      await server.stop();
    }
  });
});
