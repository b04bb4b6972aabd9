// The rollout loop with a scripted policy and real tools: the policy is a test double (its text comes
// from a script), the search and Python tools are real implementations.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runRolloutGroup, type RolloutOptions } from "../../worker/icrl/rollout.js";
import { MATH_PYTHON_TEMPLATE, QA_SEARCH_TEMPLATE } from "../../worker/icrl/default-templates.js";
import { MATH_PYTHON_DEMONSTRATIONS, QA_SEARCH_DEMONSTRATIONS } from "../../worker/icrl/default-demonstrations.js";
import { LocalPythonTool } from "../../worker/tools/python/local-python-tool.js";
import type { Tool, ToolResult } from "../../worker/tools/types.js";
import { expectMatchesSequence, expectSegmentsMatchTokens } from "./invariants.js";
import { openSmallSearch, recording } from "./search-fixture.js";
import { bytesOf, EOS, ScriptedEngine, scriptedTurns, textOf, type Policy } from "./scripted-engine.js";

const PROMPT = bytesOf("<|user|>\nQuestion: what is the capital of France?\n<|assistant|>\n");
const python = new LocalPythonTool({ slots: 2 });
let searchTool: Tool;
let cleanup = () => {};
beforeAll(async () => {
  ({ tool: searchTool, cleanup } = await openSmallSearch());
});
afterAll(async () => {
  await python.close();
  cleanup();
});

async function run(policy: Policy, options: Partial<RolloutOptions> = {}, size = 1) {
  const engine = new ScriptedEngine(policy);
  const group = await engine.openGroup(size);
  const search = recording(searchTool);
  const result = await runRolloutGroup(engine, group, PROMPT, {
    tools: [search],
    messages: QA_SEARCH_TEMPLATE,
    ...options,
  });
  const sequences = engine.groups[0];
  for (const rollout of result.rollouts) {
    expectMatchesSequence(rollout, PROMPT, sequences[rollout.sampleIndex].log);
    expectSegmentsMatchTokens(rollout, textOf);
    expect(sequences[rollout.sampleIndex].length).toBe(PROMPT.length + rollout.responseTokens);
  }
  return { engine, result, sequences, search, rollout: result.rollouts[0] };
}

describe("rollout loop with a scripted policy", () => {
  it("runs a search, inserts the result as a masked observation, and ends at </answer>", async () => {
    const turn1 = "<think> I should look it up. </think>\n<search> capital of France </search>";
    const turn2 = "<think> Doc 1 says Paris. </think>\n<answer> Paris </answer>";
    const { rollout, search } = await run(scriptedTurns([turn1, turn2]));

    expect(rollout.finishReason).toBe("answer");
    expect(rollout.segments.map((s) => s.kind)).toEqual(["MODEL", "TOOL_CALL", "TOOL_RESULT", "MODEL"]);
    expect(rollout.segments[1]).toMatchObject({
      text: "<search> capital of France </search>",
      tool: "search",
      input: "capital of France",
    });
    expect(search.calls).toEqual(["capital of France"]);
    const result = rollout.segments[2];
    expect(result.text).toMatch(/^\n\n<information>Doc 1\(Title: Paris\) Paris is the capital and largest city of France\./);
    expect(result.text.endsWith("</information>\n\n")).toBe(true);
    expect(result).toMatchObject({ tool: "search", ok: true });
    expect(rollout.modelText).toBe(turn1 + turn2);
    expect(rollout.responseText).toBe(turn1 + result.text + turn2);
    // Mask is 1 exactly on the scripted bytes.
    const sampledIds = rollout.responseIds.filter((_, i) => rollout.lossMask[i] === 1);
    expect(sampledIds).toEqual([...bytesOf(turn1), ...bytesOf(turn2)]);
    expect(rollout).toMatchObject({
      turns: 2,
      toolCallsValid: 1,
      toolCallsInvalid: 0,
      toolErrors: 0,
      corrections: 0,
      promptTokens: PROMPT.length,
    });
    expect(rollout.toolCalls).toMatchObject([{ turn: 1, tool: "search", input: "capital of France", ok: true, truncated: false }]);
    expect(rollout.timing.totalMs).toBeGreaterThanOrEqual(rollout.timing.generationMs);
  });

  it("inserts search results in the same shape the QA demonstrations show", async () => {
    const block = /^\n\n<information>Doc 1\(Title: [^\n]+?\) [^\n]+(\nDoc \d\(Title: [^\n]+?\) [^\n]+)*<\/information>\n\n$/;
    const { rollout } = await run(scriptedTurns(["<search> largest city </search>", "<answer> Paris </answer>"]));
    const observation = rollout.segments.find((s) => s.kind === "TOOL_RESULT")!.text;
    expect(observation).toMatch(block);
    expect(observation.split("\nDoc ").length).toBe(3); // top 3 of the 3 matching passages
    for (const { trajectory } of QA_SEARCH_DEMONSTRATIONS.items) {
      const blocks = trajectory.match(/\n\n<information>[\s\S]*?<\/information>\n\n/g)!;
      for (const b of blocks) expect(b).toMatch(block);
    }
  });

  it("shows the model its tool result before the next turn", async () => {
    const seen: string[] = [];
    const policy: Policy = ({ turn, context }) => {
      seen.push(context);
      return turn === 0 ? "<search> Mount Everest </search>" : "<answer> Everest </answer>";
    };
    await run(policy);
    expect(seen[1]).toContain("<information>Doc 1(Title: Mount Everest)");
    expect(seen[1].startsWith(textOf(PROMPT))).toBe(true);
  });

  it("corrects unusable turns and counts attempted calls as invalid", async () => {
    const turns = [
      "<think> I will just guess. </think> Probably Paris.", // nothing actionable, ends by EOS
      "<search> capital of France", // unclosed call
      "<search>   </search>", // empty query
      "<calculator> 2 + 2 </calculator>", // unknown tool
      "</search>", // closing tag without an opening one
      "<answer> Paris </answer>",
    ];
    const { rollout } = await run(scriptedTurns(turns), { maxToolTurns: 10 });
    expect(rollout.finishReason).toBe("answer");
    expect(rollout.turns).toBe(6);
    expect(rollout.toolCallsValid).toBe(0);
    expect(rollout.toolCallsInvalid).toBe(4);
    expect(rollout.corrections).toBe(5);
    const system = rollout.segments.filter((s) => s.kind === "SYSTEM").map((s) => s.text);
    expect(system).toHaveLength(5);
    expect(system[0]).toContain("no tool call and no answer");
    expect(system[1]).toContain("<search> was not closed with </search>");
    expect(system[2]).toContain("empty <search> call");
    expect(system[3]).toContain("unknown tool <calculator>");
    expect(system[4]).toContain("</search> without an opening <search>");
    // The correction names the call syntax of the tools actually offered.
    expect(system[0]).toContain("<search> ... </search>");
    // Turns that ended at end of sequence keep the EOS the model sampled, with mask 1.
    const eosPositions = rollout.responseIds.flatMap((id, i) => (id === EOS ? [i] : []));
    expect(eosPositions.length).toBe(3);
    for (const i of eosPositions) expect(rollout.lossMask[i]).toBe(1);
  });

  it("after maxToolTurns runs one last turn with tools disabled", async () => {
    const always = "<search> Paris </search>";
    const last = "<search> Lyon </search> then <answer> Paris </answer>";
    const { rollout, sequences, search } = await run(scriptedTurns([always, always, always, last]), { maxToolTurns: 3 });
    expect(rollout.finishReason).toBe("answer");
    expect(rollout.turns).toBe(4);
    expect(rollout.toolCallsValid).toBe(3);
    expect(search.calls).toEqual(["Paris", "Paris", "Paris"]);
    const opts = sequences[0].lastOptions;
    expect(opts[0].stopStrings).toEqual(["</search>", "</answer>"]);
    expect(opts[3].stopStrings).toEqual(["</answer>"]);
    const kinds = rollout.segments.map((s) => s.kind);
    expect(kinds.slice(-3)).toEqual(["TOOL_RESULT", "SYSTEM", "MODEL"]);
    expect(rollout.segments.at(-2)!.text).toContain("will not be run any more");
    // In the tools-off turn the search text is just text: no TOOL_CALL segment, no call.
    expect(rollout.segments.at(-1)!.text).toBe(last);
  });

  it("ends with max_turns when the tools-off turn gives no answer", async () => {
    const { rollout } = await run(scriptedTurns(["<search> Paris </search>", "I still do not know."]), { maxToolTurns: 1 });
    expect(rollout.finishReason).toBe("max_turns");
    expect(rollout.turns).toBe(2);
  });

  it("a last tool turn that is unusable gets the tools-off notice, not a correction", async () => {
    const { rollout } = await run(scriptedTurns(["hmm", "<answer> Paris </answer>"]), { maxToolTurns: 1 });
    expect(rollout.finishReason).toBe("answer");
    expect(rollout.corrections).toBe(0);
    expect(rollout.segments.map((s) => s.kind)).toEqual(["MODEL", "SYSTEM", "MODEL"]);
    expect(rollout.segments[1].text).toContain("final answer");
  });

  it("maxToolTurns 0 starts directly with the tools-off turn", async () => {
    const { rollout, sequences } = await run(scriptedTurns(["<answer> Paris </answer>"]), { maxToolTurns: 0 });
    expect(rollout.finishReason).toBe("answer");
    expect(rollout.segments[0].kind).toBe("SYSTEM");
    expect(sequences[0].lastOptions[0].stopStrings).toEqual(["</answer>"]);
  });

  it("ends with length when a turn exhausts the per-turn budget", async () => {
    const { rollout, sequences } = await run(scriptedTurns(["x".repeat(100)]), { maxTokensPerTurn: 20 });
    expect(rollout.finishReason).toBe("length");
    expect(rollout.responseTokens).toBe(20);
    expect(rollout.lossMask.every((m) => m === 1)).toBe(true);
    expect(sequences[0].lastOptions[0].maxTokens).toBe(20);
  });

  it("keeps sampled plus inserted tokens within the total budget", async () => {
    const call = "<search> capital of France </search>"; // 36 bytes
    // Budget 60: the call fits, its observation does not, so nothing is inserted and the rollout ends.
    const small = await run(scriptedTurns([call, "<answer> Paris </answer>"]), { maxResponseTokens: 60 });
    expect(small.rollout.finishReason).toBe("length");
    expect(small.rollout.responseTokens).toBe(call.length);
    expect(small.rollout.toolCallsValid).toBe(1);
    expect(small.rollout.segments.map((s) => s.kind)).toEqual(["TOOL_CALL"]);

    // A budget with room for the observation plus 50 tokens: the next turn may only sample those 50.
    const probe = await run(scriptedTurns([call, "<answer> Paris </answer>"]));
    const observationTokens = bytesOf(probe.rollout.segments[1].text).length;
    const budget = call.length + observationTokens + 50;
    const mid = await run(scriptedTurns([call, "y".repeat(500)]), { maxResponseTokens: budget, maxTokensPerTurn: 150 });
    expect(mid.rollout.finishReason).toBe("length");
    expect(mid.sequences[0].lastOptions[1].maxTokens).toBe(50);
    expect(mid.rollout.responseTokens).toBe(budget);
    expect(mid.rollout.segments.map((s) => s.kind)).toEqual(["TOOL_CALL", "TOOL_RESULT", "MODEL"]);
  });

  it("truncates long observations to maxObservationTokens", async () => {
    const { rollout } = await run(scriptedTurns(["<search> France </search>", "<answer> Paris </answer>"]), {
      maxObservationTokens: 12,
    });
    const observation = rollout.segments.find((s) => s.kind === "TOOL_RESULT")!.text;
    expect(observation).toBe("\n\n<information>Doc 1(Title:</information>\n\n");
    expect(rollout.toolCalls[0]).toMatchObject({ truncated: true, observationTokens: 12 });
  });

  it("turns tool failures into observations: a Python traceback and a tool that throws", async () => {
    const broken: Tool = {
      name: "search",
      call: async (): Promise<ToolResult> => {
        throw new Error("index not loaded");
      },
    };
    const turns = [
      "<python>\nprint(6 * 7)\n</python>",
      "<python>\nraise ValueError('bad value')\n</python>",
      "<search> anything </search>",
      "<answer> 42 </answer>",
    ];
    const { rollout } = await run(scriptedTurns(turns), { tools: [python, broken] });
    expect(rollout.finishReason).toBe("answer");
    expect(rollout.toolCallsValid).toBe(3);
    expect(rollout.toolErrors).toBe(2);
    const results = rollout.segments.filter((s) => s.kind === "TOOL_RESULT");
    expect(results.map((s) => s.ok)).toEqual([true, false, false]);
    expect(results[0].text).toBe("\n\n<information>42</information>\n\n");
    expect(results[1].text).toContain("ValueError: bad value");
    expect(results[2].text).toContain("index not loaded");
    expect(rollout.toolCalls.map((c) => c.errorCode)).toEqual([undefined, "RUNTIME_ERROR", "UNAVAILABLE"]);
    expect(rollout.timing.toolMs).toBeGreaterThan(0);
  });

  it("ends an engine failure with finish reason error without touching the other rollouts", async () => {
    const policy: Policy = ({ sampleIndex, turn }) =>
      sampleIndex === 1 && turn === 1 ? { throw: "context overflow" } : turn === 0 ? "<search> Paris </search>" : "<answer> Paris </answer>";
    const { result } = await run(policy, {}, 3);
    expect(result.rollouts.map((r) => r.finishReason)).toEqual(["answer", "error", "answer"]);
    expect(result.rollouts[1].error).toBe("context overflow");
  });

  it("with onEos finish, ends a tool turn that stops at end of sequence", async () => {
    const { rollout } = await run(scriptedTurns(["I am done."]), { onEos: "finish" });
    expect(rollout.finishReason).toBe("eos");
    expect(rollout.corrections).toBe(0);
    const unclosed = await run(scriptedTurns(["<search> Paris"]), { onEos: "finish" });
    expect(unclosed.rollout).toMatchObject({ finishReason: "eos", toolCallsInvalid: 1, turns: 1 });
  });

  it("gives each sequence its own sampling seed when a seed is fixed", async () => {
    const { sequences } = await run(scriptedTurns(["<answer> a </answer>"]), { sampling: { temperature: 1, seed: 7 } }, 4);
    const seeds = sequences.map((s) => s.lastOptions[0].sampling.seed);
    expect(new Set(seeds).size).toBe(4);
    const again = await run(scriptedTurns(["<answer> a </answer>"]), { sampling: { temperature: 1, seed: 7 } }, 4);
    expect(again.sequences.map((s) => s.lastOptions[0].sampling.seed)).toEqual(seeds);
  });

  it("lets other sequences keep generating while one waits for its tool", async () => {
    // Sequence 0 runs slow Python; sequence 1 makes three quick searches meanwhile.
    const policy: Policy = ({ sampleIndex, turn }) => {
      if (sampleIndex === 0) return turn === 0 ? "<python>\nimport time\ntime.sleep(0.6)\nprint('slept')\n</python>" : "<answer> done </answer>";
      return turn < 3 ? "<search> Paris </search>" : "<answer> Paris </answer>";
    };
    const { engine, result } = await run(policy, { tools: [searchTool, python] }, 2);
    expect(result.rollouts.map((r) => r.finishReason)).toEqual(["answer", "answer"]);
    const at = (sample: number, kind: string, turn: number) =>
      engine.events.find((e) => e.sampleIndex === sample && e.kind === kind && e.turn === turn)!.at;
    // Sequence 1 finished all four turns before sequence 0's tool returned and its second turn began.
    expect(at(1, "generate-end", 3)).toBeLessThan(at(0, "generate-start", 1));
    expect(result.rollouts[0].timing.toolMs).toBeGreaterThan(500);
    expect(result.rollouts[1].timing.toolMs).toBeLessThan(result.rollouts[0].timing.toolMs);
  });

  it("replays every default math demonstration exactly, with the real Python sandbox producing its outputs", async () => {
    for (const { trajectory } of MATH_PYTHON_DEMONSTRATIONS.items) {
      const modelParts = trajectory.split(/\n\n<information>[\s\S]*?<\/information>\n\n/);
      const { rollout } = await run(scriptedTurns(modelParts), { tools: [python], messages: MATH_PYTHON_TEMPLATE });
      expect(rollout.finishReason).toBe("answer");
      expect(rollout.responseText).toBe(trajectory);
    }
  });

  it("rejects tool names that collide with format tags", async () => {
    const engine = new ScriptedEngine(scriptedTurns([]));
    const group = await engine.openGroup(1);
    const answerTool: Tool = { name: "answer", call: async () => ({ ok: true, observation: "", durationMs: 0 }) };
    await expect(runRolloutGroup(engine, group, PROMPT, { tools: [answerTool] })).rejects.toThrow(/format tag/);
  });
});
