// Realistic payloads for tests and benchmarks: rollouts shaped like ICRL search trajectories.
import { writeFile } from "node:fs/promises";
import type { RolloutRecord } from "../../contracts/index.js";

export function makeRollout(step: number, groupIndex: number, sampleIndex: number, textBytes = 3000): RolloutRecord {
  const filler = "The passage discusses the history of the region and its notable figures. ";
  const body = filler.repeat(Math.ceil(textBytes / filler.length / 4)).slice(0, Math.floor(textBytes / 4));
  const reward = ((step * 31 + groupIndex * 7 + sampleIndex * 3) % 10) / 10;
  return {
    step,
    stage: Math.floor(step / 100),
    shots: [3, 2, 0][Math.min(2, Math.floor(step / 100))],
    groupIndex,
    sampleIndex,
    questionId: `q-${step}-${groupIndex}`,
    segments: [
      { kind: "MODEL", text: `<think>${body}</think><search>who founded the city</search>` },
      { kind: "TOOL_RESULT", text: `<information>Doc 1(Title: City) ${body}</information>` },
      { kind: "MODEL", text: `<think>${body}</think>` },
      { kind: "TOOL_CALL", text: "founding date" },
      { kind: "MODEL", text: `<answer>${body.slice(0, 40)}</answer>` },
    ],
    reward,
    rewardComponents: { accuracy: reward > 0.5 ? 1 : 0, format: 1 },
    advantage: reward - 0.5,
    promptTokens: 900,
    responseTokens: 400,
    turns: 2,
    toolCallsValid: sampleIndex % 3 === 0 ? 0 : 1,
    toolCallsInvalid: 0,
    finishReason: "answer",
  };
}

export async function writeQaJsonl(file: string, n: number, splitEvery = 0): Promise<void> {
  const lines = Array.from({ length: n }, (_, i) =>
    JSON.stringify({
      id: `item-${i}`,
      question: `What is item number ${i}?`,
      golden_answers: [`answer ${i}`, `${i}`],
      ...(splitEvery && i % splitEvery === 0 ? { split: "test" } : {}),
    }),
  );
  await writeFile(file, lines.join("\n") + "\n");
}
