import { describe, expect, it } from "vitest";
import { QA_SEARCH_DEMONSTRATIONS, MATH_PYTHON_DEMONSTRATIONS } from "../../worker/icrl/default-demonstrations.js";
import { MATH_PYTHON_TEMPLATE, QA_SEARCH_TEMPLATE } from "../../worker/icrl/default-templates.js";
import { buildPrompt, renderPrompt, selectDemonstrations } from "../../worker/icrl/prompt.js";
import { DemonstrationSetSchema, PromptTemplateSchema, type DemonstrationSet } from "../../contracts/index.js";
import { formatScore } from "../../worker/scoring/format.js";
import { bytesOf, ScriptedEngine, scriptedTurns } from "./scripted-engine.js";

const QUESTION = "Who wrote the novel Dune?";
const demoQuestions = QA_SEARCH_DEMONSTRATIONS.items.map((d) => d.question);

const manyDemos: DemonstrationSet = DemonstrationSetSchema.parse({
  name: "numbers",
  task: "qa",
  items: Array.from({ length: 12 }, (_, i) => ({ question: `Question number ${i}?`, trajectory: `<answer> ${i} </answer>` })),
});

describe("prompt building", () => {
  it("renders instructions, k demonstrations in order, then the question, as one user message", () => {
    const prompt = buildPrompt({
      question: QUESTION,
      questionId: "q1",
      shots: 3,
      template: QA_SEARCH_TEMPLATE,
      demonstrations: QA_SEARCH_DEMONSTRATIONS,
    });
    expect(prompt.messages).toEqual([{ role: "user", content: prompt.userMessage }]);
    expect(prompt.demonstrationIndices).toEqual([0, 1, 2]);
    const text = prompt.userMessage;
    expect(text.startsWith(QA_SEARCH_TEMPLATE.instructions)).toBe(true);
    const positions = [0, 1, 2].map((i) => text.indexOf(`Question: ${demoQuestions[i]}`));
    expect(positions.every((p) => p > 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(text).not.toContain(demoQuestions[3]);
    expect(text).toContain("### Example 3\n");
    expect(text).not.toContain("### Example 4");
    // Full trajectories, tool results included.
    expect(text).toContain(QA_SEARCH_DEMONSTRATIONS.items[1].trajectory);
    expect(text.endsWith(`### Your turn\nQuestion: ${QUESTION}`)).toBe(true);
  });

  it("names every tag the loop and scorer rely on in the default instructions", () => {
    for (const tag of ["<think>", "</think>", "<answer>", "</answer>", "<information>", "</information>"]) {
      expect(QA_SEARCH_TEMPLATE.instructions).toContain(tag);
      expect(MATH_PYTHON_TEMPLATE.instructions).toContain(tag);
    }
    expect(QA_SEARCH_TEMPLATE.instructions).toContain("<search> and </search>");
    expect(MATH_PYTHON_TEMPLATE.instructions).toContain("<python> and </python>");
  });

  it("zero-shot has no demonstrations and no demonstration header", () => {
    const prompt = buildPrompt({
      question: QUESTION,
      questionId: "q1",
      shots: 0,
      template: QA_SEARCH_TEMPLATE,
      demonstrations: QA_SEARCH_DEMONSTRATIONS,
    });
    expect(prompt.demonstrationIndices).toEqual([]);
    expect(prompt.userMessage).toBe(`${QA_SEARCH_TEMPLATE.instructions}\n\n### Your turn\nQuestion: ${QUESTION}`);
    expect(prompt.userMessage).not.toContain(QA_SEARCH_TEMPLATE.demonstrationsHeader);
    // Zero-shot needs no demonstration set at all.
    expect(buildPrompt({ question: QUESTION, questionId: "q1", shots: 0, template: QA_SEARCH_TEMPLATE }).userMessage).toBe(prompt.userMessage);
  });

  it("'sampled' is deterministic per (seed, questionId) and varies across questions and seeds", () => {
    const pick = (seed: number, questionId: string) => selectDemonstrations(manyDemos, 3, { selection: "sampled", seed, questionId });
    const first = pick(1, "q-17");
    expect(first).toHaveLength(3);
    expect(new Set(first).size).toBe(3);
    // Order of calls does not matter: nothing is shared between draws.
    pick(1, "q-3");
    pick(2, "q-17");
    expect(pick(1, "q-17")).toEqual(first);

    const byQuestion = new Set(Array.from({ length: 20 }, (_, i) => pick(1, `q-${i}`).join(",")));
    expect(byQuestion.size).toBeGreaterThan(5);
    const bySeed = new Set(Array.from({ length: 20 }, (_, s) => pick(s, "q-17").join(",")));
    expect(bySeed.size).toBeGreaterThan(5);
    // Every index can be drawn.
    const seen = new Set(Array.from({ length: 200 }, (_, i) => pick(0, `q-${i}`)).flat());
    expect(seen.size).toBe(12);
  });

  it("'first' takes the first k regardless of seed and question", () => {
    for (const questionId of ["a", "b"]) {
      expect(selectDemonstrations(manyDemos, 4, { selection: "first", seed: 9, questionId })).toEqual([0, 1, 2, 3]);
    }
  });

  it("never shows a demonstration of the question being asked, and caps k at what is available", () => {
    const prompt = buildPrompt({
      question: `  ${demoQuestions[0].toUpperCase()} `,
      questionId: "x",
      shots: 2,
      template: QA_SEARCH_TEMPLATE,
      demonstrations: QA_SEARCH_DEMONSTRATIONS,
    });
    expect(prompt.demonstrationIndices).toEqual([1, 2]);
    expect(selectDemonstrations(QA_SEARCH_DEMONSTRATIONS, 50, { questionId: "x" })).toEqual([0, 1, 2, 3, 4]);
  });

  it("does not expand placeholders inside the question", () => {
    const prompt = buildPrompt({
      question: "What does {trajectory} mean in {index}?",
      questionId: "p",
      shots: 1,
      template: QA_SEARCH_TEMPLATE,
      demonstrations: manyDemos,
    });
    expect(prompt.userMessage.endsWith("Question: What does {trajectory} mean in {index}?")).toBe(true);
  });

  it("rejects a k-shot prompt without demonstrations and a task mismatch", () => {
    expect(() => buildPrompt({ question: QUESTION, questionId: "q", shots: 2, template: QA_SEARCH_TEMPLATE })).toThrow(/needs a demonstration set/);
    expect(() =>
      buildPrompt({ question: "1+1?", questionId: "q", shots: 2, template: QA_SEARCH_TEMPLATE, demonstrations: MATH_PYTHON_DEMONSTRATIONS }),
    ).toThrow(/task math/);
    expect(() => selectDemonstrations(manyDemos, -1, { questionId: "q" })).toThrow(RangeError);
  });

  it("validates user-supplied templates and demonstration sets", () => {
    expect(DemonstrationSetSchema.safeParse({ name: "x", task: "qa", items: [] }).success).toBe(false);
    expect(DemonstrationSetSchema.safeParse({ name: "x", task: "code", items: [{ question: "q", trajectory: "t" }] }).success).toBe(false);
    const template = { ...QA_SEARCH_TEMPLATE, question: "Q: {q}" };
    const parsed = PromptTemplateSchema.safeParse(template);
    expect(parsed.success).toBe(false);
    expect(PromptTemplateSchema.safeParse({ ...QA_SEARCH_TEMPLATE, demonstration: "{question}" }).success).toBe(false);
    // demonstrationSeparator has a default.
    const { demonstrationSeparator: _omit, ...rest } = QA_SEARCH_TEMPLATE;
    expect(PromptTemplateSchema.parse(rest).demonstrationSeparator).toBe("\n\n");
  });

  it("puts an optional system prompt before the single user message", () => {
    const template = PromptTemplateSchema.parse({ ...MATH_PYTHON_TEMPLATE, systemPrompt: "You are careful." });
    const prompt = buildPrompt({ question: "2+2?", questionId: "m", shots: 1, template, demonstrations: MATH_PYTHON_DEMONSTRATIONS });
    expect(prompt.messages.map((m) => m.role)).toEqual(["system", "user"]);
  });

  it("renders through the engine's chat template and tokenizes the result", () => {
    const engine = new ScriptedEngine(scriptedTurns([]));
    const rendered = renderPrompt(engine, {
      question: QUESTION,
      questionId: "q1",
      shots: 2,
      template: QA_SEARCH_TEMPLATE,
      demonstrations: QA_SEARCH_DEMONSTRATIONS,
    });
    expect(rendered.text).toBe(`<|user|>\n${rendered.userMessage}\n<|assistant|>\n`);
    expect(rendered.tokens).toEqual(bytesOf(rendered.text));
  });

  it("default demonstrations follow the loop's format: tool results as inserted observations, one final answer", () => {
    for (const set of [QA_SEARCH_DEMONSTRATIONS, MATH_PYTHON_DEMONSTRATIONS]) {
      const tool = set.task === "qa" ? "search" : "python";
      for (const { trajectory } of set.items) {
        const calls = trajectory.split(`</${tool}>`).length - 1;
        expect(calls).toBeGreaterThan(0);
        // Every call is followed by exactly the block the rollout inserts.
        expect(trajectory.split(`</${tool}>\n\n<information>`).length - 1).toBe(calls);
        expect(trajectory.match(/<\/information>\n\n/g)).toHaveLength(calls);
        expect(trajectory.match(/<answer>/g)).toHaveLength(1);
        expect(trajectory.trimEnd().endsWith("</answer>")).toBe(true);
        expect(formatScore(trajectory, { toolTags: [tool] }).format).toBe(1);
      }
    }
  });
});
