// The metrics on real benchmark answers (the first few hundred items of each, copied into
// test/fixtures/data with their provenance): a gold scored against itself (or a
// GSM8K solution against its own answer) must be 1, and another item's answer must almost never be.
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { em, f1, gsm8k, mathEquiv, normalizeAnswer, subem } from "../../worker/scoring/index.js";

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const dataDir = path.join(projectRoot, "test", "fixtures", "data");

function readJsonl<T>(relative: string): T[] {
  return readFileSync(path.join(dataDir, relative), "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as T);
}

type QaItem = { id: string; golden_answers: string[] };

describe.each([
  ["nq_open_test", 400],
  ["triviaqa_sample3000", 400],
  ["hotpotqa_dev500_r1searcher", 400],
  ["musique_dev500_r1searcher", 400],
  ["bamboogle_test", 125],
])("QA metrics on %s", (name, count) => {
  const items = readJsonl<QaItem>(`unified/${name}.jsonl`);

  it("scores every gold 1 against itself", () => {
    expect(items).toHaveLength(count);
    const failures: string[] = [];
    for (const item of items) {
      for (const gold of item.golden_answers) {
        // F1 is 0 for an answer with no tokens left (NQ-open has golds "---" and ")").
        const f1Expected = normalizeAnswer(gold) === "" ? 0 : 1;
        if (em(gold, [gold]) !== 1 || subem(gold, [gold]) !== 1 || f1(gold, [gold]) !== f1Expected) {
          failures.push(`${item.id}: ${gold}`);
        }
        // a gold also matches when the model decorates it (toLowerCase, not toUpperCase: "ß" and
        // "ſ" do not survive a round trip through upper case)
        if (em(`The ${gold.toLowerCase()}.`, item.golden_answers) !== 1 && normalizeAnswer(gold) !== "") {
          failures.push(`${item.id} decorated: ${gold}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it("scores the next item's first answer (almost always) 0", () => {
    let emHits = 0;
    let f1Sum = 0;
    items.forEach((item, i) => {
      const other = items[(i + 1) % items.length].golden_answers[0];
      emHits += em(other, item.golden_answers);
      f1Sum += f1(other, item.golden_answers);
    });
    expect(emHits / items.length).toBeLessThan(0.02);
    expect(f1Sum / items.length).toBeLessThan(0.05);
  });
});

describe("gsm8k on the GSM8K test set", () => {
  const solutions = readJsonl<{ question: string; answer: string }>("gsm8k/test.jsonl");
  const answers = readJsonl<{ answer: string }>("unified/gsm8k_test.jsonl");

  it("scores each solution 1 against itself, its bare answer and '#### answer'", () => {
    expect(solutions).toHaveLength(400);
    const failures: number[] = [];
    solutions.forEach((item, i) => {
      const bare = answers[i].answer;
      const ok =
        gsm8k(item.answer, [item.answer]) === 1 && gsm8k(item.answer, [bare]) === 1 && gsm8k(`So the answer is\n#### ${bare}`, [item.answer]) === 1;
      if (!ok) failures.push(i);
    });
    expect(failures).toEqual([]);
  });

  it("handles the thousands separators the set really uses", () => {
    const withComma = solutions.filter((item) => /#### -?\d{1,3}(,\d{3})+\s*$/.test(item.answer));
    expect(withComma.length).toBeGreaterThan(0);
    for (const item of withComma) {
      const plain = item.answer
        .slice(item.answer.lastIndexOf("#### ") + 5)
        .trim()
        .replaceAll(",", "");
      expect(gsm8k(`#### ${plain}`, [item.answer])).toBe(1);
    }
  });

  it("scores the next item's solution (almost always) 0", () => {
    let hits = 0;
    solutions.forEach((item, i) => {
      hits += gsm8k(solutions[(i + 1) % solutions.length].answer, [item.answer]);
    });
    expect(hits / solutions.length).toBeLessThan(0.03);
  });
});

describe("math_equiv on MATH-500", () => {
  const items = readJsonl<{ solution: string; answer: string; unique_id: string }>("math500/test.jsonl");

  it("scores each answer 1 against itself and against its worked solution's last box", () => {
    expect(items).toHaveLength(200);
    const failures = items
      .filter((item) => mathEquiv(item.answer, [item.answer]) !== 1 || mathEquiv(item.solution, [item.answer]) !== 1)
      .map((item) => item.unique_id);
    expect(failures).toEqual([]);
  });

  it("scores the next item's answer (almost always) 0", () => {
    let hits = 0;
    items.forEach((item, i) => {
      hits += mathEquiv(`\\boxed{${items[(i + 1) % items.length].answer}}`, [item.answer]);
    });
    expect(hits / items.length).toBeLessThan(0.03);
  });
});
