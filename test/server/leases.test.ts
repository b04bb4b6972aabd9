// Lease expiry with a short lease: a worker that stops heartbeating loses its job to another worker.
import { describe, expect, it } from "vitest";
import { ClaimJobDocument, CompleteJobDocument, HeartbeatDocument, ReportRolloutsDocument } from "../../client-sdk/src/index.js";
import { codeOf, useWorkerProtocolServer } from "./worker-protocol-setup.js";
import { makeRollout } from "../support/fixtures.js";

const wp = useWorkerProtocolServer({ leaseSeconds: 2, reaperIntervalMs: 300 });
const { newWorker, newRun } = wp;

describe("leases", () => {
  it("an expired lease requeues the job and a second worker resumes it", async () => {
    const runId = await newRun("lease");
    const a = await newWorker("a");
    const b = await newWorker("b");
    const claim = (await a.mutate(ClaimJobDocument, {})).claimJob!;
    expect(claim.job.run?.id).toBe(runId);
    // a keeps the lease alive for a while...
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 700));
      const hb = await a.mutate(HeartbeatDocument, { jobId: claim.job.id });
      expect(hb.heartbeat.cancelled).toBe(false);
    }
    expect((await b.mutate(ClaimJobDocument, {})).claimJob).toBeNull();
    // ...then dies: the reaper requeues the job, b gets it with attempts = 1.
    let second = null;
    for (let i = 0; i < 40 && !second; i++) {
      await new Promise((r) => setTimeout(r, 200));
      second = (await b.mutate(ClaimJobDocument, {})).claimJob;
    }
    expect(second?.job.id).toBe(claim.job.id);
    expect(second?.job.attempts).toBe(1);
    // The dead worker can no longer act on the job.
    expect(await codeOf(a.mutate(HeartbeatDocument, { jobId: claim.job.id }))).toBe("FORBIDDEN");
    expect(await codeOf(a.mutate(ReportRolloutsDocument, { jobId: claim.job.id, rollouts: [makeRollout(0, 0, 0)] }))).toBe("FORBIDDEN");
    await b.mutate(CompleteJobDocument, { jobId: claim.job.id });
  });
});
