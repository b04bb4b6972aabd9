// Hendrycks MATH answer normalisation (`_strip_string` in math_equivalence.py), reimplemented step by
// step, quirks included, because MATH accuracy numbers in the literature are computed with it:
// - only "\text{ " WITH a space counts as a unit ("10\text{ cm}" -> "10", "10\text{cm}" stays);
// - "\right" is removed anywhere, so "\rightarrow" becomes "arrow";
// - only "\$" and "\%" are removed, never a bare "$" or "%";
// - "0.5" becomes \frac{1}{2} only when it is the whole answer;
// - "a/b" becomes \frac{a}{b} only for canonical integers a, b (as Python's int() round-trip).
// Where the Python code raises (two "\text{ " units, "\sqrt" or "\frac" at the very end), is_equiv
// falls back to comparing the raw strings; NormalizationFailure carries that case.

export class NormalizationFailure extends Error {}

// Python indexes strings by code point; JavaScript by UTF-16 unit. These keep s[0] / s[1:] faithful
// for characters outside the BMP.
function codePoints(s: string): string[] {
  return Array.from(s);
}

function fixFracs(input: string): string {
  const parts = input.split("\\frac");
  let out = parts[0];
  for (const part of parts.slice(1)) {
    out += "\\frac";
    const chars = codePoints(part);
    if (chars.length === 0) throw new NormalizationFailure("\\frac at the end"); // substr[0] IndexError
    if (chars[0] === "{") {
      out += part;
      continue;
    }
    // "\frac1" with nothing more cannot be repaired: Python returns the string it was given.
    if (chars.length < 2) return input;
    const [a, b] = chars;
    const rest = chars.slice(2).join("");
    out += b !== "{" ? `{${a}}{${b}}${rest}` : `{${a}}${b}${rest}`;
  }
  return out;
}

const CANONICAL_INT = /^(?:0|-?[1-9][0-9]*)$/;

function fixASlashB(input: string): string {
  const parts = input.split("/");
  if (parts.length !== 2) return input;
  const [a, b] = parts;
  // Python: int(a), int(b), then assert the string is exactly "{a}/{b}" -> only canonical integers.
  if (!CANONICAL_INT.test(a) || !CANONICAL_INT.test(b)) return input;
  return `\\frac{${a}}{${b}}`;
}

function removeRightUnits(input: string): string {
  if (!input.includes("\\text{ ")) return input;
  const parts = input.split("\\text{ ");
  if (parts.length !== 2) throw new NormalizationFailure("several \\text{ units"); // assert len == 2
  return parts[0];
}

function fixSqrt(input: string): string {
  if (!input.includes("\\sqrt")) return input;
  const parts = input.split("\\sqrt");
  let out = parts[0];
  for (const part of parts.slice(1)) {
    const chars = codePoints(part);
    if (chars.length === 0) throw new NormalizationFailure("\\sqrt at the end"); // split[0] IndexError
    // Runs before spaces are removed, so "\sqrt 3" becomes "\sqrt{ }3" (then "\sqrt{}3"), as in Python.
    out += chars[0] !== "{" ? `\\sqrt{${chars[0]}}${chars.slice(1).join("")}` : `\\sqrt${part}`;
  }
  return out;
}

/** Hendrycks' `_strip_string`. Throws NormalizationFailure where the Python code raises. */
export function stripMathString(input: string): string {
  let s = input.replaceAll("\n", "");
  s = s.replaceAll("\\!", "");
  s = s.replaceAll("\\\\", "\\");
  s = s.replaceAll("tfrac", "frac").replaceAll("dfrac", "frac");
  s = s.replaceAll("\\left", "").replaceAll("\\right", "");
  s = s.replaceAll("^{\\circ}", "").replaceAll("^\\circ", "");
  s = s.replaceAll("\\$", "");
  s = removeRightUnits(s);
  s = s.replaceAll("\\%", "");
  s = s.replaceAll(" .", " 0.").replaceAll("{.", "{0.");
  if (s.length === 0) return s;
  if (s[0] === ".") s = "0" + s;
  // Drop a short left-hand side such as "x = " or "k=" (at most 2 characters before the only "=").
  const sides = s.split("=");
  if (sides.length === 2 && codePoints(sides[0]).length <= 2) s = sides[1];
  s = fixSqrt(s);
  s = s.replaceAll(" ", "");
  s = fixFracs(s);
  if (s === "0.5") s = "\\frac{1}{2}";
  s = fixASlashB(s);
  return s;
}

/** Hendrycks' `is_equiv` on two already-extracted answers. */
export function isEquivStrings(a: string, b: string): boolean {
  try {
    return stripMathString(a) === stripMathString(b);
  } catch (error) {
    if (error instanceof NormalizationFailure) return a === b;
    throw error;
  }
}
