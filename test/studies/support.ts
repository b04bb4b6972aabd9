// What the study tests (API, CLI, dashboard) share: the lookup task's own short demonstrations (the
// default set would not fit the tiny model's context) and a 3-step base run config (2-shot, then
// 0-shot) that validates every step, so curves and stage boundaries have points at every step.
import { CreateDemonstrationSetDocument } from "../../client-sdk/src/index.js";
import type { TestServer } from "../support/server.js";
import { lookupDemoSet, lookupRunConfig, type LookupSetup } from "../training/support.js";

export async function createLookupDemoSet(t: TestServer, setup: LookupSetup, name: string): Promise<string> {
  const demos = lookupDemoSet(setup);
  return (await t.admin.mutate(CreateDemonstrationSetDocument, { input: { name, task: "QA", items: demos.items } })).createDemonstrationSet.id;
}

export function studyBaseConfig(setup: LookupSetup, demoSetId: string): Record<string, unknown> {
  return lookupRunConfig(setup, {
    curriculum: {
      stages: [
        { shots: 2, steps: 1 },
        { shots: 0, steps: 2 },
      ],
    },
    demonstrations: { selection: "first", setId: demoSetId },
    validation: { every: 1, size: 2 },
    checkpointEvery: 3,
  });
}
