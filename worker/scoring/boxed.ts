// The final answer of a MATH-style solution is the content of its last \boxed{...} (or \fbox{...}).
// Braces are balanced by counting every "{" and "}" (escaped ones included), as Hendrycks'
// last_boxed_only_string does, so \boxed{\frac{1}{2}} yields "\frac{1}{2}".

// A box is the command followed by "{" (LaTeX allows spaces in between). "\boxed 5" (no brace) is
// not recognised as a box: the brief asks for braces, and Hendrycks' remove_boxed rejects it too.
const BOX_OPENING = /\\(?:boxed|fbox)\s*\{/g;

export type BoxedResult =
  | { kind: "none" } // no box at all
  | { kind: "unclosed" } // the last box never closes (typically a truncated generation)
  | { kind: "boxed"; content: string };

/** The content of the last box; where several are present only the last one counts. */
export function lastBoxed(text: string): BoxedResult {
  let openBraceIndex = -1;
  for (const match of text.matchAll(BOX_OPENING)) openBraceIndex = match.index + match[0].length - 1;
  if (openBraceIndex < 0) return { kind: "none" };
  let depth = 0;
  for (let i = openBraceIndex; i < text.length; i++) {
    const ch = text[i];
    if (ch === "{") depth += 1;
    else if (ch === "}") {
      depth -= 1;
      if (depth === 0) return { kind: "boxed", content: text.slice(openBraceIndex + 1, i) };
    }
  }
  return { kind: "unclosed" };
}
