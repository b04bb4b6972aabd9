// A study's status is what a user reads first: FAILED must mean a run failed. Runs cancelled one by one
// (say, to save time, as the replication study did) next to runs that succeeded make the study CANCELLED,
// not FAILED; any failed run makes it FAILED whatever else happened.
import fc from "fast-check";
import { expect, it } from "vitest";
import type { Run } from "../../server/generated/prisma/client.js";
import { isFinished, studyStatus } from "../../server/studies/study-runs.js";

type RunStatus = Run["status"];
const runs = (...statuses: RunStatus[]) => statuses.map((status) => ({ status }));

it("names each state of a study's runs", () => {
  expect(studyStatus(runs("QUEUED", "QUEUED"), null)).toBe("QUEUED");
  expect(studyStatus(runs("SUCCEEDED", "QUEUED"), null)).toBe("RUNNING");
  expect(studyStatus(runs("FAILED", "RUNNING"), null)).toBe("RUNNING");
  expect(studyStatus(runs("SUCCEEDED", "SUCCEEDED"), null)).toBe("SUCCEEDED");
  expect(studyStatus(runs("SUCCEEDED", "CANCELLED"), null)).toBe("CANCELLED");
  expect(studyStatus(runs("SUCCEEDED", "CANCELLED", "FAILED"), null)).toBe("FAILED");
  expect(studyStatus(runs("SUCCEEDED", "RUNNING"), new Date())).toBe("CANCELLED");
});

it("is FAILED exactly when every run finished and one failed, for any mix of runs", () => {
  const status = fc.constantFrom<RunStatus>("QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED");
  fc.assert(
    fc.property(fc.array(status, { minLength: 1, maxLength: 12 }), fc.boolean(), (statuses, cancelled) => {
      const finished = statuses.every(isFinished);
      const got = studyStatus(runs(...statuses), cancelled ? new Date() : null);
      expect(got === "FAILED").toBe(!cancelled && finished && statuses.includes("FAILED"));
      expect(got === "SUCCEEDED").toBe(!cancelled && statuses.every((s) => s === "SUCCEEDED"));
    }),
  );
});
