// A demonstration set as a claim carries it (task named by dataset kind, QA / MATH) in the form prompts
// use (lower-case task names), validated, since the server stores items as free JSON.
import { DemonstrationSetSchema, describeIssues, type ClaimedDemonstrationSet, type DemonstrationSet } from "../../contracts/index.js";
import { JobInputError } from "./errors.js";

export function claimedDemonstrations(set: ClaimedDemonstrationSet): DemonstrationSet {
  const parsed = DemonstrationSetSchema.safeParse({ name: set.name, task: set.task.toLowerCase(), items: set.items });
  if (!parsed.success) throw new JobInputError(`Demonstration set ${set.name} cannot be used: ${describeIssues(parsed.error)}`);
  return parsed.data;
}
