// The auth matrix: no key, wrong role, revoked key, a worker touching another worker's job. Every
// rejected call changes nothing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import WebSocket from "ws";
import { buildClientSchema, getIntrospectionQuery } from "graphql";
import { createClient as createWsClient } from "graphql-ws";
import {
  ApiKeysDocument,
  ClaimJobDocument,
  CreateApiKeyDocument,
  CreateExperimentDocument,
  CreateRunDocument,
  ExperimentsDocument,
  IcrlApiError,
  ImportDatasetDocument,
  LogMetricsDocument,
  RegisterWorkerDocument,
  ReportRolloutsDocument,
  RevokeApiKeyDocument,
  RolloutsDocument,
  ViewerDocument,
  HeartbeatDocument,
  CompleteJobDocument,
} from "../../client-sdk/src/index.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { loadServerConfig } from "../../server/config.js";
import { makeRollout, writeQaJsonl } from "../support/fixtures.js";

let t: TestServer;
let member: string;
let workerKey: string;

async function codeOf(p: Promise<unknown>): Promise<string | null> {
  return p.then(
    () => null,
    (e) => (e instanceof IcrlApiError ? e.code : String(e)),
  );
}

beforeAll(async () => {
  t = await startTestServer();
  member = (await t.admin.mutate(CreateApiKeyDocument, { name: "alice", role: "MEMBER" })).createApiKey.secret;
  workerKey = (await t.admin.mutate(CreateApiKeyDocument, { name: "fleet", role: "WORKER" })).createApiKey.secret;
});

afterAll(async () => {
  await t?.close();
});

describe("authentication", () => {
  it("requires a key for the API and artifacts; /healthz, /readyz and the dashboard's files need none", async () => {
    expect((await fetch(`${t.server.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${t.server.url}/readyz`)).status).toBe(200);
    expect((await fetch(`${t.server.url}/`)).status).toBe(200);
    const anon = t.client("");
    expect(await codeOf(anon.query(ExperimentsDocument, {}))).toBe("UNAUTHENTICATED");
    expect(await codeOf(t.client("icrl_wrong").mutate(CreateExperimentDocument, { name: "nope" }))).toBe("UNAUTHENTICATED");
    const art = await fetch(`${t.server.url}/artifacts/00000000-0000-0000-0000-000000000000`);
    expect(art.status).toBe(401);
    expect((await t.admin.query(ExperimentsDocument, { nameContains: "nope" })).experiments.totalCount).toBe(0);
  });

  it("refuses WebSocket connections without a valid key", async () => {
    const client = createWsClient({
      url: t.server.wsUrl,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: "Bearer bad" },
      retryAttempts: 0,
      lazy: true,
    });
    const outcome = await new Promise<unknown>((resolve) => {
      client.subscribe(
        { query: "subscription { jobAvailable { cursor } }" },
        { next: () => resolve("event"), error: (e) => resolve(e), complete: () => resolve("complete") },
      );
    });
    expect((outcome as { code?: number }).code).toBe(4403);
    await client.dispose();
  });

  it("stores keys hashed and shows the secret only once", async () => {
    const keys = await t.admin.query(ApiKeysDocument, {});
    const alice = keys.apiKeys.find((k) => k.name === "alice")!;
    expect(member.startsWith(alice.prefix)).toBe(true);
    expect(JSON.stringify(keys)).not.toContain(member);
    const { rows } = await t.server.services.pool.query("SELECT hash FROM api_keys WHERE id = $1", [alice.id]);
    expect(rows[0].hash).toMatch(/^[0-9a-f]{64}$/);
    expect(rows[0].hash).not.toContain(member);
  });
});

describe("roles", () => {
  it("members read and create experiments but cannot manage keys or act as workers", async () => {
    const m = t.client(member);
    expect((await m.query(ViewerDocument, {})).viewer.role).toBe("MEMBER");
    expect((await m.mutate(CreateExperimentDocument, { name: "by-member" })).createExperiment.name).toBe("by-member");
    expect(await codeOf(m.mutate(CreateApiKeyDocument, { name: "escalate", role: "ADMIN" }))).toBe("FORBIDDEN");
    expect(await codeOf(m.query(ApiKeysDocument, {}))).toBe("FORBIDDEN");
    expect(await codeOf(m.mutate(ClaimJobDocument, {}))).toBe("FORBIDDEN");
    expect((await t.admin.query(ApiKeysDocument, {})).apiKeys.some((k) => k.name === "escalate")).toBe(false);
  });

  it("worker keys can only use the worker protocol", async () => {
    const w = t.client(workerKey);
    expect(await codeOf(w.query(ExperimentsDocument, {}))).toBe("FORBIDDEN");
    expect(await codeOf(w.mutate(CreateExperimentDocument, { name: "by-worker" }))).toBe("FORBIDDEN");
    // A registration key is not a worker token.
    expect(await codeOf(w.mutate(ClaimJobDocument, {}))).toBe("FORBIDDEN");
    expect((await t.admin.query(ExperimentsDocument, { nameContains: "by-worker" })).experiments.totalCount).toBe(0);
  });

  it("a revoked key stops working at once", async () => {
    const created = await t.admin.mutate(CreateApiKeyDocument, { name: "temp", role: "MEMBER" });
    const c = t.client(created.createApiKey.secret);
    expect((await c.query(ViewerDocument, {})).viewer.role).toBe("MEMBER");
    await t.admin.mutate(RevokeApiKeyDocument, { id: created.createApiKey.apiKey.id });
    expect(await codeOf(c.query(ViewerDocument, {}))).toBe("UNAUTHENTICATED");
    expect(await codeOf(c.mutate(CreateExperimentDocument, { name: "after-revoke" }))).toBe("UNAUTHENTICATED");
    expect((await t.admin.query(ExperimentsDocument, { nameContains: "after-revoke" })).experiments.totalCount).toBe(0);
  });

  it("a worker cannot touch another worker's job or run", async () => {
    const tmp = await mkdtemp(path.join(os.tmpdir(), "icrl-auth-"));
    await writeQaJsonl(path.join(tmp, "qa.jsonl"), 5);
    const ds = await t.admin.mutate(ImportDatasetDocument, {
      input: { name: "auth-qa", kind: "QA", format: "JSONL", path: path.join(tmp, "qa.jsonl") },
    });
    const exp = await t.admin.mutate(CreateExperimentDocument, { name: "auth-exp" });
    const run = await t.admin.mutate(CreateRunDocument, {
      experimentId: exp.createExperiment.id,
      name: "r",
      config: { model: { path: "m.gguf" }, dataset: { id: ds.importDataset.id } },
    });
    const reg = t.client(workerKey);
    const tokA = (await reg.mutate(RegisterWorkerDocument, { name: "A", capabilities: { backend: "cpu" } })).registerWorker.token;
    const tokB = (await reg.mutate(RegisterWorkerDocument, { name: "B", capabilities: { backend: "cpu" } })).registerWorker.token;
    const a = t.client(tokA);
    const b = t.client(tokB);
    const job = (await a.mutate(ClaimJobDocument, {})).claimJob!.job;
    expect(job.run?.id).toBe(run.createRun.id);
    expect(await codeOf(b.mutate(HeartbeatDocument, { jobId: job.id }))).toBe("FORBIDDEN");
    expect(await codeOf(b.mutate(ReportRolloutsDocument, { jobId: job.id, rollouts: [makeRollout(0, 0, 0)] }))).toBe("FORBIDDEN");
    expect(await codeOf(b.mutate(LogMetricsDocument, { jobId: job.id, points: [{ key: "x", step: 0, value: 1 }] }))).toBe("FORBIDDEN");
    expect(await codeOf(b.mutate(CompleteJobDocument, { jobId: job.id }))).toBe("FORBIDDEN");
    // Worker tokens cannot register more workers or read data.
    expect(await codeOf(a.mutate(RegisterWorkerDocument, { name: "C", capabilities: {} }))).toBe("FORBIDDEN");
    expect(await codeOf(a.query(RolloutsDocument, { runId: run.createRun.id }))).toBe("FORBIDDEN");
    expect((await t.admin.query(RolloutsDocument, { runId: run.createRun.id })).rollouts.totalCount).toBe(0);
    expect((await a.mutate(HeartbeatDocument, { jobId: job.id })).heartbeat.cancelled).toBe(false);
  });

  async function post(key: string | null, query: string): Promise<{ status: number; body: any }> {
    const res = await fetch(`${t.server.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify({ query }),
    });
    return { status: res.status, body: await res.json() };
  }

  it("refuses queries that are too deep or too costly", async () => {
    const res = await fetch(`${t.server.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${member}` },
      body: JSON.stringify({
        query: "{ experiments(first: 1000) { nodes { runs(first: 1000) { nodes { rollouts(first: 1000) { nodes { id segments { text } } } } } } } }",
      }),
    });
    const body = await res.json();
    expect(res.status).toBe(400);
    expect(body.errors[0].extensions).toEqual({ code: "QUERY_TOO_COMPLEX", limit: { maxCost: 50_000 } });
    expect(body.errors[0].message).toMatch(/too expensive .*ICRL_MAX_QUERY_COST/);

    const deep = await post(
      member,
      "{ experiments { nodes { runs { nodes { experiment { runs { nodes { experiment { runs { nodes { experiment { runs { nodes { id } } } } } } } } } } } } } }",
    );
    expect(deep.status).toBe(400);
    expect(deep.body.errors[0].extensions).toEqual({ code: "QUERY_TOO_COMPLEX", limit: { maxDepth: 12 } });
  });

  it("the limits are settings: ICRL_MAX_QUERY_DEPTH and ICRL_MAX_QUERY_COST", () => {
    const config = loadServerConfig({}, { ICRL_MAX_QUERY_DEPTH: "20", ICRL_MAX_QUERY_COST: "1000" });
    expect([config.maxQueryDepth, config.maxQueryCost]).toEqual([20, 1000]);
    expect(() => loadServerConfig({}, { ICRL_MAX_QUERY_DEPTH: "deep" })).toThrow(/ICRL_MAX_QUERY_DEPTH/);
  });

  it("answers graphql-js's standard introspection query for a client with a key, and asks for a key without one", async () => {
    const withKey = await post(member, getIntrospectionQuery());
    expect(withKey.status).toBe(200);
    expect(withKey.body.errors).toBeUndefined();
    // What GraphiQL, Postman or codegen do with it: a client schema with our types.
    const schema = buildClientSchema(withKey.body.data);
    expect(schema.getType("Study")).toBeDefined();
    expect(Object.keys(schema.getQueryType()!.getFields())).toContain("runs");
    const withoutKey = await post(null, getIntrospectionQuery());
    expect(withoutKey.status).toBe(401);
    expect(withoutKey.body.errors[0].extensions.code).toBe("UNAUTHENTICATED");
  });
});
