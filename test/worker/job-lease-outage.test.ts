// The job lease's step-boundary check (JobLease.checkNow) while the server is unreachable or slow: the
// first boundary waits (at most its timeout), later ones do not wait at all (a step must not pay a
// timeout or a slow round trip at every boundary of an outage), and the cancel is heard all the same.
// The server sits behind a TCP proxy that stops all traffic the way a network partition does, or
// passes it on late.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CancelRunDocument, createClient, JobLease } from "../../client-sdk/src/index.js";
import { claimedTrainJob } from "../support/claimed-job.js";
import { type PartitionProxy, startPartitionProxy } from "../support/partition-proxy.js";
import { startTestServer, type TestServer } from "../support/server.js";

let t: TestServer;
let proxy: PartitionProxy;
let dir: string;

beforeAll(async () => {
  t = await startTestServer();
  proxy = await startPartitionProxy(t.server.url);
  dir = await mkdtemp(path.join(os.tmpdir(), "icrl-lease-outage-"));
});

afterAll(async () => {
  await proxy?.close();
  await t?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Settles with the promise's value, or "still waiting" if it has not settled within `ms`. */
const within = <T>(p: Promise<T>, ms: number) =>
  Promise.race([p, new Promise<"still waiting">((r) => setTimeout(() => r("still waiting"), ms).unref())]);

/** A claimed TRAIN job, and its worker's client reaching the server through the proxy. */
async function claimThroughProxy(name: string) {
  const job = await claimedTrainJob(t, dir, name);
  const client = createClient({ url: proxy.url, token: job.workerToken });
  return { runId: job.runId, client, claim: { job: { id: job.jobId, leaseExpiresAt: job.leaseExpiresAt } } };
}

describe("JobLease.checkNow through an outage", () => {
  it("waits once, then not at all while cut off, and hears a cancel after the link heals", async () => {
    const { runId, client, claim } = await claimThroughProxy("outage");
    // No background heartbeat (start() is not called): only checkNow talks to the server here.
    const lease = new JobLease(client, claim.job.id, { leaseExpiresAt: claim.job.leaseExpiresAt });
    try {
      expect(await lease.checkNow(5_000)).toBe(false);

      proxy.cut("blackhole");
      // The first boundary of the outage cannot know yet: it waits for its timeout, then goes on.
      expect(await within(lease.checkNow(300), 60_000)).toBe(false);
      // Later boundaries do not wait, even with a timeout far longer than the test.
      for (let i = 0; i < 3; i++) expect(await within(lease.checkNow(600_000), 10_000)).toBe(false);
      expect(lease.lost).toBe(false);

      await t.admin.mutate(CancelRunDocument, { id: runId });
      proxy.heal();
      // The heartbeat sent in the background during the outage goes through now and hears the cancel.
      const deadline = Date.now() + 60_000;
      while (!lease.cancelRequested && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(lease.cancelRequested).toBe(true);
      expect(await lease.checkNow()).toBe(true);
    } finally {
      await lease.stop();
      await client.close();
    }
  });

  it("stops waiting at boundaries while the server answers slowly, and hears a cancel all the same", async () => {
    const { runId, client, claim } = await claimThroughProxy("slow");
    const lease = new JobLease(client, claim.job.id, { leaseExpiresAt: claim.job.leaseExpiresAt, slowCheckMs: 500 });
    try {
      expect(await lease.checkNow()).toBe(false);
      // Every chunk 1 s late each way: a check cannot answer in under 2 s.
      proxy.delay(1_000);
      const started = Date.now();
      expect(await lease.checkNow(60_000)).toBe(false);
      expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
      // That one was slower than slowCheckMs: the next boundaries do not wait (a waited one takes >= 2 s).
      for (let i = 0; i < 3; i++) expect(await within(lease.checkNow(60_000), 1_000)).toBe(false);

      // A cancel still arrives, through the check running in the background, and counts from then on.
      await t.admin.mutate(CancelRunDocument, { id: runId });
      const deadline = Date.now() + 60_000;
      while (!(await lease.checkNow(60_000)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(lease.cancelRequested).toBe(true);
    } finally {
      proxy.delay(0);
      await lease.stop();
      await client.close();
    }
  });
});
