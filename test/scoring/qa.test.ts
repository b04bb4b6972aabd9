// Expected values worked out by hand from the official SQuAD v1.1 script (normalize_answer, f1_score,
// metric_max_over_ground_truths), Search-R1's subem_check and HotpotQA's f1_score.
import { describe, expect, it } from "vitest";
import { normalizeAnswer } from "../../worker/scoring/normalize.js";
import { em, f1, subem } from "../../worker/scoring/qa.js";

describe("normalizeAnswer (SQuAD v1.1)", () => {
  it.each([
    ["The Eiffel Tower!", "eiffel tower"],
    ["A  an\tTHE", ""],
    ["theory of anthems", "theory of anthems"], // articles only as whole words
    ["U.S.A.", "usa"],
    // punctuation goes before articles, so "the-end" fuses into one word and keeps its "the"
    ["the-end", "theend"],
    ["_the", ""], // "_" is punctuation; what remains is the article
    ["don’t stop", "don’t stop"], // the curly apostrophe is not in string.punctuation
    ["Paris\u00a0 France\n", "paris france"], // NBSP is whitespace to str.split()
    ["zero\u200bwidth", "zero\u200bwidth"], // ZWSP is not
    ["éthe and the é", "éthe and é"], // Python's \b is Unicode-aware: "éthe" is one word
    ["Rock 'n' Roll", "rock n roll"],
  ])("%j -> %j", (input, expected) => {
    expect(normalizeAnswer(input)).toBe(expected);
  });
});

describe("em", () => {
  it("matches after normalisation and takes the best gold", () => {
    expect(em("The Eiffel Tower.", ["eiffel tower"])).toBe(1);
    expect(em("Eiffel", ["eiffel tower"])).toBe(0);
    expect(em("bob russell", ["Bobby Scott", "Bob Russell"])).toBe(1);
  });
  it("treats two empty normal forms as equal and no gold as a miss", () => {
    expect(em("", ["The"])).toBe(1);
    expect(em("paris", [])).toBe(0);
  });
});

describe("f1", () => {
  it("counts shared tokens as a multiset", () => {
    // pred [cat, sat], gold [cat, sat, down]: P = 1, R = 2/3
    expect(f1("the cat sat", ["a cat sat down"])).toBeCloseTo(0.8, 12);
    // pred [new, new, york], gold [new, york]: 2 shared, P = 2/3, R = 1
    expect(f1("new new york", ["New York"])).toBeCloseTo(0.8, 12);
  });
  it("takes the maximum over golds", () => {
    // vs "obama": P = 1/2, R = 1 -> 2/3; vs "president barack obama": P = 1, R = 2/3 -> 0.8
    expect(f1("Barack Obama", ["Obama", "President Barack Obama"])).toBeCloseTo(0.8, 12);
    expect(f1("Barack Obama", ["Obama"])).toBeCloseTo(2 / 3, 12);
  });
  it("scores 0 when nothing is shared, even two empty answers (unlike EM)", () => {
    expect(f1("the", ["a"])).toBe(0);
    expect(f1("london", ["paris"])).toBe(0);
    expect(f1("london", [])).toBe(0);
  });
  it("applies HotpotQA's yes/no rule only when asked", () => {
    expect(f1("yes", ["yes indeed"])).toBeCloseTo(2 / 3, 12);
    expect(f1("yes", ["yes indeed"], { hotpotYesNo: true })).toBe(0);
    expect(f1("yes it is", ["Yes"])).toBeCloseTo(0.5, 12);
    expect(f1("yes it is", ["Yes"], { hotpotYesNo: true })).toBe(0);
    expect(f1("No.", ["no"], { hotpotYesNo: true })).toBe(1);
    expect(f1("the big cat", ["big cat"], { hotpotYesNo: true })).toBe(1);
  });
});

describe("subem (Search-R1)", () => {
  it("finds a normalised gold inside the normalised prediction", () => {
    expect(subem("I think it is Paris, France.", ["paris"])).toBe(1);
    expect(subem("London", ["Paris", "Rome"])).toBe(0);
  });
  it("matches characters, not tokens", () => {
    expect(subem("Parisian", ["paris"])).toBe(1);
    expect(subem("10 apples", ["1"])).toBe(1);
  });
  it("counts a gold that normalises to nothing as contained in anything", () => {
    // Real case: NQ-open has an item whose only gold is "---".
    expect(subem("anything at all", ["---"])).toBe(1);
    expect(subem("anything", [])).toBe(0);
  });
});
