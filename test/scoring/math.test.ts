// Expected values worked out by hand from Hendrycks' math_equivalence.py (is_equiv/_strip_string),
// last_boxed_only_string, and OpenAI grade-school-math's extract_answer.
import { describe, expect, it } from "vitest";
import { gsm8k, gsm8kGoldAnswer, mathAnswerOf, mathEquiv } from "../../worker/scoring/math.js";
import { isEquivStrings, stripMathString } from "../../worker/scoring/math-normalize.js";
import { lastBoxed } from "../../worker/scoring/boxed.js";

describe("stripMathString (Hendrycks _strip_string)", () => {
  it.each([
    ["\\frac12", "\\frac{1}{2}"],
    ["\\frac1{72}", "\\frac{1}{72}"],
    ["\\dfrac{3}{4}", "\\frac{3}{4}"],
    ["0.5", "\\frac{1}{2}"],
    [".5", "\\frac{1}{2}"], // leading "." gets a 0, then the 0.5 rule applies
    ["1.5", "1.5"],
    ["3/4", "\\frac{3}{4}"],
    ["-3/4", "\\frac{-3}{4}"],
    ["03/4", "03/4"], // not a canonical integer for Python's int() round trip
    ["10\\text{ cm}", "10"],
    ["10\\text{cm}", "10\\text{cm}"], // only "\text{ " with a space is a unit
    ["\\left( 3, \\frac{\\pi}{2} \\right)", "(3,\\frac{\\pi}{2})"],
    ["90^\\circ", "90"],
    ["x = 5", "5"],
    ["xyz = 5", "xyz=5"],
    ["11\\sqrt2", "11\\sqrt{2}"],
    ["\\sqrt 3", "\\sqrt{}3"], // the sqrt fix runs before spaces are removed, as upstream
    ["50\\%", "50"],
    ["50%", "50%"],
    ["\\$18", "18"],
    ["$18$", "$18$"],
    ["\\{ .5, 1\\}", "\\{0.5,1\\}"],
    ["a \\rightarrow b", "aarrowb"],
  ])("%j -> %j", (input, expected) => {
    expect(stripMathString(input)).toBe(expected);
  });
});

describe("isEquivStrings", () => {
  it("compares normal forms", () => {
    expect(isEquivStrings("0.5", "\\frac{1}{2}")).toBe(true);
    expect(isEquivStrings("\\frac{1}{2}", "\\frac{2}{4}")).toBe(false); // string equality, not value
    expect(isEquivStrings("5", "5.0")).toBe(false);
  });
  it("falls back to raw equality where the Python code raises", () => {
    expect(() => stripMathString("1\\text{ m}\\text{ s}")).toThrow();
    expect(isEquivStrings("1\\text{ m}\\text{ s}", "1\\text{ m}\\text{ s}")).toBe(true);
    expect(isEquivStrings("1\\text{ m}\\text{ s}", "1")).toBe(false);
    expect(isEquivStrings("2\\sqrt", "2\\sqrt")).toBe(true);
    expect(isEquivStrings("2\\sqrt", "2 \\sqrt")).toBe(false);
    expect(isEquivStrings("\\frac", "\\frac")).toBe(true);
  });
});

describe("lastBoxed", () => {
  it("balances nested braces and keeps the last box", () => {
    expect(lastBoxed("so \\boxed{\\frac{\\sqrt{3}}{2}}.")).toEqual({ kind: "boxed", content: "\\frac{\\sqrt{3}}{2}" });
    expect(lastBoxed("\\boxed{1} then \\fbox{2} then \\boxed {3}")).toEqual({ kind: "boxed", content: "3" });
    expect(lastBoxed("\\boxed{1} then \\fbox{2}")).toEqual({ kind: "boxed", content: "2" });
    expect(lastBoxed("no box")).toEqual({ kind: "none" });
    expect(lastBoxed("\\boxed{1} and \\boxed{\\frac{1}{2")).toEqual({ kind: "unclosed" });
    expect(mathAnswerOf("\\boxed 5")).toBe("\\boxed 5"); // not a box without braces
  });
});

describe("mathEquiv", () => {
  it("compares the last boxed answer after normalisation", () => {
    expect(mathEquiv("The answer is \\boxed{\\frac{1}{2}}.", ["0.5"])).toBe(1);
    expect(mathEquiv("\\boxed{\\dfrac{\\sqrt{3}}{2}}", ["\\frac{\\sqrt3}{2}"])).toBe(1);
    expect(mathEquiv("first \\boxed{1}, finally \\boxed{2}", ["2"])).toBe(1);
    expect(mathEquiv("first \\boxed{1}, finally \\boxed{2}", ["1"])).toBe(0);
    expect(mathEquiv("\\fbox{7}", ["7"])).toBe(1);
    expect(mathEquiv("\\boxed{10\\text{ cm}}", ["10"])).toBe(1);
  });
  it("uses the whole prediction when it has no box", () => {
    expect(mathEquiv("1/2", ["\\frac12"])).toBe(1);
    expect(mathEquiv("x=5", ["5"])).toBe(1);
  });
  it("scores a truncated last box as wrong even if an earlier box was right", () => {
    expect(mathEquiv("\\boxed{1} wait, \\boxed{\\frac{1}{", ["1"])).toBe(0);
  });
  it("accepts full solutions as golds and takes the best gold", () => {
    expect(mathEquiv("\\frac{14}{3}", ["Adding, we get $\\boxed{\\frac{14}{3}}$."])).toBe(1);
    expect(mathEquiv("\\boxed{3}", ["4", "3"])).toBe(1);
    expect(mathEquiv("\\boxed{3}", [])).toBe(0);
  });
});

describe("gsm8k", () => {
  it("reads the number after '#### ' with commas removed", () => {
    expect(gsm8k("so she earns 1234 dollars\n#### 1,234", ["1234"])).toBe(1);
    expect(gsm8k("#### 1234", ["She pays 1,000 + 234 = <<1000+234=1234>>1,234\n#### 1,234"])).toBe(1);
    expect(gsm8k("#### -5", ["-5"])).toBe(1);
    expect(gsm8k("#### 12", ["1,2"])).toBe(1); // commas vanish on both sides, whatever they meant
  });
  it("uses the first '#### <number>' and compares strings", () => {
    expect(gsm8k("#### 3\n#### 4", ["3"])).toBe(1);
    expect(gsm8k("#### 3\n#### 4", ["4"])).toBe(0);
    expect(gsm8k("#### see below\n#### 4", ["4"])).toBe(1); // a "#### " without a number is skipped
    expect(gsm8k("#### 18.0", ["18"])).toBe(0);
    expect(gsm8k("#### 18.", ["18"])).toBe(0); // the trailing dot is part of the match, as upstream
    expect(gsm8k("#### $18", ["18"])).toBe(0);
  });
  it("scores 0 without '#### <number>' or without golds", () => {
    expect(gsm8k("The answer is 18", ["18"])).toBe(0);
    expect(gsm8k("####18", ["18"])).toBe(0);
    expect(gsm8k("#### 18", [])).toBe(0);
  });
  it("takes what each kind of gold contributes", () => {
    expect(gsm8kGoldAnswer(" 1,234 ")).toBe("1234");
    expect(gsm8kGoldAnswer("work\n#### 72")).toBe("72");
    expect(gsm8kGoldAnswer("work\n#### unknown")).toBeNull();
  });
});
