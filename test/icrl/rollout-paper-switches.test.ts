// The rollout loop's paper-fidelity switches (docs/paper-fidelity.md): what a turn that hits the
// per-turn token cap does (rollout.turnCapAction), and the official code's loop (rollout.loop) next to
// ours. The policy is scripted; the search tool is the real BM25 one.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OFFICIAL_INVALID_NOTICE, runRolloutGroup, type RolloutOptions } from "../../worker/icrl/rollout.js";
import { QA_SEARCH_TEMPLATE } from "../../worker/icrl/default-templates.js";
import type { Tool } from "../../worker/tools/types.js";
import { expectMatchesSequence, expectSegmentsMatchTokens } from "./invariants.js";
import { openSmallSearch, recording } from "./search-fixture.js";
import { bytesOf, ScriptedEngine, scriptedTurns, textOf, type Policy } from "./scripted-engine.js";

const PROMPT = bytesOf("<|user|>\nQuestion: what is the capital of France?\n<|assistant|>\n");
let searchTool: Tool;
let cleanup = () => {};
beforeAll(async () => {
  ({ tool: searchTool, cleanup } = await openSmallSearch());
});
afterAll(() => cleanup());

async function run(policy: Policy, options: Partial<RolloutOptions> = {}) {
  const engine = new ScriptedEngine(policy);
  const group = await engine.openGroup(1);
  const search = recording(searchTool);
  const result = await runRolloutGroup(engine, group, PROMPT, { tools: [search], messages: QA_SEARCH_TEMPLATE, ...options });
  const rollout = result.rollouts[0];
  expectMatchesSequence(rollout, PROMPT, engine.groups[0][0].log);
  expectSegmentsMatchTokens(rollout, textOf);
  return { rollout, search, sequence: engine.groups[0][0] };
}

const LONG = `<think> ${"la ".repeat(40)}`; // no closing tag within a 64-token turn
const ANSWER = "<think> Paris. </think>\n<answer> Paris </answer>";

describe("rollout.turnCapAction", () => {
  it('"end" (default) ends the rollout at a capped turn with finish reason length', async () => {
    const { rollout } = await run(scriptedTurns([LONG, ANSWER]), { maxTokensPerTurn: 64 });
    expect(rollout.finishReason).toBe("length");
    expect(rollout.turns).toBe(1);
    expect(rollout.segments.map((s) => s.kind)).toEqual(["MODEL"]);
  });

  it('"invalid" treats the capped turn as an invalid action, inserts the correction and lets the model answer', async () => {
    const { rollout } = await run(scriptedTurns([LONG, ANSWER]), { maxTokensPerTurn: 64, turnCapAction: "invalid" });
    expect(rollout.finishReason).toBe("answer");
    expect(rollout.turns).toBe(2);
    expect(rollout.segments.map((s) => s.kind)).toEqual(["MODEL", "SYSTEM", "MODEL"]);
    expect(rollout.segments[0].text).toHaveLength(64);
    expect(rollout.segments[1].text).toContain("limit of 64 tokens");
    expect(rollout.corrections).toBe(1);
    // A capped turn is not an attempted tool call.
    expect(rollout.toolCallsInvalid).toBe(0);
  });

  it('"invalid" still ends at the whole response budget', async () => {
    const { rollout } = await run(() => LONG, { maxTokensPerTurn: 64, maxResponseTokens: 180, turnCapAction: "invalid" });
    expect(rollout.finishReason).toBe("length");
    expect(rollout.responseTokens).toBeLessThanOrEqual(180);
  });
});

describe("rollout.loop", () => {
  const invalidThenAnswer = scriptedTurns(["<think> hmm </think> I am not sure.", ANSWER]);

  it('"ours" corrects an invalid turn with the template\'s correction naming the reason', async () => {
    const { rollout } = await run(invalidThenAnswer);
    expect(rollout.segments[1].kind).toBe("SYSTEM");
    expect(rollout.segments[1].text).toContain("no tool call and no answer");
    expect(rollout.segments[1].text).not.toBe(OFFICIAL_INVALID_NOTICE);
  });

  it('"official" inserts the official fixed invalid-action notice instead', async () => {
    const { rollout } = await run(invalidThenAnswer, { loop: "official" });
    expect(rollout.finishReason).toBe("answer");
    expect(rollout.segments.map((s) => s.kind)).toEqual(["MODEL", "SYSTEM", "MODEL"]);
    expect(rollout.segments[1].text).toBe(OFFICIAL_INVALID_NOTICE);
  });

  const searchForever: Policy = () => "<think> look </think>\n<search> capital of France </search>";

  it('"ours" ends with a tools-off notice and an answer-only final turn', async () => {
    const { rollout, search, sequence } = await run(searchForever, { maxToolTurns: 2 });
    expect(search.calls).toHaveLength(2);
    expect(rollout.turns).toBe(3);
    expect(rollout.finishReason).toBe("max_turns");
    const system = rollout.segments.filter((s) => s.kind === "SYSTEM");
    expect(system).toHaveLength(1);
    expect(system[0].text).toContain("will not be run any more");
    // The final turn could only stop at </answer>.
    expect(sequence.lastOptions.at(-1)!.stopStrings).toEqual(["</answer>"]);
  });

  it('"official" runs the final turn with no notice, stopping at a tool tag, and does not run its call', async () => {
    const { rollout, search, sequence } = await run(searchForever, { maxToolTurns: 2, loop: "official" });
    expect(search.calls).toHaveLength(2);
    expect(rollout.turns).toBe(3);
    expect(rollout.finishReason).toBe("max_turns");
    expect(rollout.segments.some((s) => s.kind === "SYSTEM")).toBe(false);
    expect(sequence.lastOptions.at(-1)!.stopStrings).toEqual(["</search>", "</answer>"]);
    expect(rollout.segments.at(-1)!.text).toContain("<search> capital of France </search>");
  });

  it('"official" inserts its notice after an invalid last tool turn too (ours lets the tools-off notice replace it)', async () => {
    const invalidOnly: Policy = ({ turn }) => (turn < 1 ? "<think> hmm </think>" : ANSWER);
    const official = await run(invalidOnly, { maxToolTurns: 1, loop: "official" });
    expect(official.rollout.segments.map((s) => s.kind)).toEqual(["MODEL", "SYSTEM", "MODEL"]);
    expect(official.rollout.segments[1].text).toBe(OFFICIAL_INVALID_NOTICE);
    const ours = await run(invalidOnly, { maxToolTurns: 1 });
    expect(ours.rollout.segments.map((s) => s.kind)).toEqual(["MODEL", "SYSTEM", "MODEL"]);
    expect(ours.rollout.corrections).toBe(0);
    expect(ours.rollout.segments[1].text).not.toBe(OFFICIAL_INVALID_NOTICE);
  });
});
