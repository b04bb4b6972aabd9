// `icrl worker`'s allowed roots follow the settings' precedence: --allow-path (repeatable) over
// ICRL_ALLOW_PATHS (path-delimiter separated) over the defaults (the data dir, .icrl/models and
// .icrl/data of the working directory). The registered worker logs the roots it will check against.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CreateApiKeyDocument } from "../../client-sdk/src/index.js";
import { ADMIN_KEY, startTestServer, type TestServer } from "../support/server.js";
import { cliEnv, spawnCli } from "./helpers.js";

let t: TestServer;
let dir: string;
let key: string;

beforeAll(async () => {
  t = await startTestServer();
  dir = await mkdtemp(path.join(os.tmpdir(), "icrl-allow-path-"));
  key = (await t.admin.mutate(CreateApiKeyDocument, { name: "allow-path", role: "WORKER" })).createApiKey.secret;
});

afterAll(async () => {
  await t?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Starts `icrl worker`, reads the roots from its "worker registered" line, stops it with SIGTERM. */
async function registeredRoots(name: string, flags: string[], allowEnv: string | undefined): Promise<string[]> {
  const env = { ...cliEnv(t.server.url, ADMIN_KEY), ICRL_WORKER_KEY: key, ICRL_ALLOW_PATHS: allowEnv };
  if (allowEnv === undefined) delete env.ICRL_ALLOW_PATHS;
  const args = ["worker", "--name", name, "--kinds", "EVAL", "--gpu", "cpu", "--data-dir", path.join(dir, name), "--log-level", "info", ...flags];
  const child = spawnCli(args, env, dir);
  let out = "";
  let err = "";
  child.stderr!.on("data", (d) => (err += d));
  const closed = new Promise((resolve) => child.once("close", resolve));
  const line = await new Promise<{ allowPaths: string[] }>((resolve, reject) => {
    child.stdout!.on("data", (d) => {
      out += d;
      const found = out.split("\n").find((l) => l.includes('"worker registered"'));
      if (found) resolve(JSON.parse(found));
    });
    child.once("close", (code) => reject(new Error(`icrl worker exited ${code} before registering: ${err}${out}`)));
  });
  child.kill("SIGTERM");
  await closed;
  return line.allowPaths;
}

describe("icrl worker --allow-path", () => {
  it("takes the flag over ICRL_ALLOW_PATHS over the defaults", { timeout: 120_000 }, async () => {
    const [a, b, c] = ["a", "b", "c"].map((d) => path.join(dir, d));
    expect(await registeredRoots("defaults", [], undefined)).toEqual([
      path.join(dir, "defaults"),
      path.join(dir, ".icrl", "models"),
      path.join(dir, ".icrl", "data"),
    ]);
    expect(await registeredRoots("from-env", [], [a, b].join(path.delimiter))).toEqual([a, b]);
    expect(await registeredRoots("from-flag", ["--allow-path", c, "--allow-path", "rel"], [a, b].join(path.delimiter))).toEqual([
      c,
      path.join(dir, "rel"),
    ]);
  });
});
