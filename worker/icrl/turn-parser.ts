// Reads one model turn and decides what it asks for. Tags are matched exactly (lower case, no
// attributes), as the instructions and the scorer spell them.

/** Tags that are part of the format but are not tools (never reported as an "unknown tool"). */
const FORMAT_TAGS = new Set(["think", "answer", "information"]);

export type TurnAction =
  /** The turn closed an </answer> (an unbalanced answer is left to the format reward). */
  | { kind: "answer" }
  /** A well-formed call; `callStart` is where its opening tag begins in the turn text. */
  | { kind: "call"; tool: string; input: string; callStart: number }
  /**
   * Nothing usable. `attemptedCall` is true when the model tried to call a tool (unclosed tag, empty
   * input, unknown tool, closing tag without opening): those count as invalid tool calls.
   */
  | { kind: "invalid"; attemptedCall: boolean; reason: string; tool?: string };

/** The earliest closing tag of the answer or of an enabled tool, if any. */
function firstClosing(text: string, names: string[]): { name: string; index: number } | null {
  let best: { name: string; index: number } | null = null;
  for (const name of names) {
    const index = text.indexOf(`</${name}>`);
    if (index >= 0 && (best === null || index < best.index)) best = { name, index };
  }
  return best;
}

export function parseTurn(text: string, toolNames: readonly string[]): TurnAction {
  const closing = firstClosing(text, ["answer", ...toolNames]);
  if (closing?.name === "answer") return { kind: "answer" };
  if (closing) {
    const tool = closing.name;
    const open = text.lastIndexOf(`<${tool}>`, closing.index);
    if (open < 0) {
      return { kind: "invalid", attemptedCall: true, tool, reason: `</${tool}> without an opening <${tool}>` };
    }
    const input = text.slice(open + tool.length + 2, closing.index).trim();
    if (input === "") return { kind: "invalid", attemptedCall: true, tool, reason: `empty <${tool}> call` };
    return { kind: "call", tool, input, callStart: open };
  }

  // No closing tag: the turn ended by end of sequence (or the engine missed a stop string).
  for (const tool of toolNames) {
    if (text.includes(`<${tool}>`)) {
      return { kind: "invalid", attemptedCall: true, tool, reason: `<${tool}> was not closed with </${tool}>` };
    }
  }
  for (const match of text.matchAll(/<([A-Za-z_][\w-]*)>[\s\S]*?<\/\1>/g)) {
    const name = match[1];
    if (!FORMAT_TAGS.has(name) && !toolNames.includes(name)) {
      const known = toolNames.length > 0 ? toolNames.map((t) => `<${t}>`).join(", ") : "none";
      return { kind: "invalid", attemptedCall: true, tool: name, reason: `unknown tool <${name}> (tools: ${known})` };
    }
  }
  if (text.includes("<answer>")) {
    return { kind: "invalid", attemptedCall: false, reason: "<answer> was not closed with </answer>" };
  }
  return { kind: "invalid", attemptedCall: false, reason: "no tool call and no answer" };
}

/** The call syntax named in correction messages, e.g. "<search> ... </search> or <python> ... </python>". */
export function toolSyntax(toolNames: readonly string[]): string {
  return toolNames.length === 0 ? "no tool" : toolNames.map((t) => `<${t}> ... </${t}>`).join(" or ");
}
