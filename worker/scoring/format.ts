// ICRL format score: 1 minus the penalties a response earns, clipped to [0, 1] (ARCHITECTURE.md, "The method").
// Each check looks at the model's own text: blocks the environment inserted (tool results inside
// <information>...</information> by default) are cut out first, so a retrieved document that happens
// to contain "<answer>" can neither help nor hurt. Tags are matched exactly (case-sensitive, no
// attributes).
//
// The checks, with the default penalties:
// - missingAnswer 0.5     no complete <answer>...</answer> pair
// - unbalancedAnswer 0.2  the counts of "<answer>" and "</answer>" differ
// - noThink 0.15          no complete <think>...</think> pair
// - unbalancedThink 0.1   the counts of "<think>" and "</think>" differ
// - noToolCall 0.1        no complete <tool>...</tool> pair for any tool tag (skipped when toolTags is [])
// - emptyAnswer 0.2       the last answer's content is only whitespace
// So "<answer>42" earns both missingAnswer and unbalancedAnswer (0.7), and an unclosed <think> both
// think penalties (0.25): an unclosed tag is worse than a merely absent one.

export interface FormatPenalties {
  missingAnswer: number;
  unbalancedAnswer: number;
  noThink: number;
  unbalancedThink: number;
  noToolCall: number;
  emptyAnswer: number;
}

export const DEFAULT_FORMAT_PENALTIES: Readonly<FormatPenalties> = Object.freeze({
  missingAnswer: 0.5,
  unbalancedAnswer: 0.2,
  noThink: 0.15,
  unbalancedThink: 0.1,
  noToolCall: 0.1,
  emptyAnswer: 0.2,
});

export const DEFAULT_TOOL_TAGS: readonly string[] = Object.freeze(["search", "python"]);
export const DEFAULT_INSERTED_TAGS: readonly string[] = Object.freeze(["information"]);

export interface FormatOptions {
  /** Override some penalties; the rest keep their defaults. */
  penalties?: Partial<FormatPenalties>;
  /** Tags whose complete pair counts as a tool call. Default ["search", "python"]. */
  toolTags?: readonly string[];
  /** Tags of blocks the environment inserted, removed before any check. Default ["information"]. */
  insertedTags?: readonly string[];
}

export interface FormatResult {
  /** 1 - sum of applied penalties, clipped to [0, 1]. */
  format: number;
  /** The amount subtracted for each check (0 when the check passed). */
  penalties: FormatPenalties;
  /** The last answer's content (see extractAnswer), from the model's own text. */
  answer: string | null;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function countOccurrences(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

function hasPair(text: string, tag: string): boolean {
  const open = text.indexOf(`<${tag}>`);
  return open >= 0 && text.indexOf(`</${tag}>`, open + tag.length + 2) >= 0;
}

/** The text with every complete <tag>...</tag> block of the given tags removed. */
export function removeInsertedBlocks(text: string, tags: readonly string[]): string {
  let out = text;
  for (const tag of tags) {
    const t = escapeRegExp(tag);
    out = out.replace(new RegExp(`<${t}>[\\s\\S]*?</${t}>`, "g"), "");
  }
  return out;
}

// The innermost pair: the content may not contain another "<answer>", so in
// "<answer>a<answer>b</answer>" the answer is "b".
const ANSWER_PAIR = /<answer>((?:(?!<answer>)[\s\S])*?)<\/answer>/g;

/** The content of the last complete <answer>...</answer> (untrimmed), or null when there is none. */
export function extractAnswer(response: string): string | null {
  let last: string | null = null;
  for (const match of response.matchAll(ANSWER_PAIR)) last = match[1];
  return last;
}

/** The ICRL format score of a response (the model's output only, never the prompt). */
export function formatScore(response: string, options: FormatOptions = {}): FormatResult {
  const weights = { ...DEFAULT_FORMAT_PENALTIES, ...options.penalties };
  const toolTags = options.toolTags ?? DEFAULT_TOOL_TAGS;
  const own = removeInsertedBlocks(response, options.insertedTags ?? DEFAULT_INSERTED_TAGS);
  const answer = extractAnswer(own);

  const failed: Record<keyof FormatPenalties, boolean> = {
    missingAnswer: answer === null,
    unbalancedAnswer: countOccurrences(own, "<answer>") !== countOccurrences(own, "</answer>"),
    noThink: !hasPair(own, "think"),
    unbalancedThink: countOccurrences(own, "<think>") !== countOccurrences(own, "</think>"),
    noToolCall: toolTags.length > 0 && !toolTags.some((tag) => hasPair(own, tag)),
    emptyAnswer: answer !== null && answer.trim() === "",
  };

  const penalties = {} as FormatPenalties;
  let total = 0;
  for (const key of Object.keys(failed) as Array<keyof FormatPenalties>) {
    penalties[key] = failed[key] ? weights[key] : 0;
    total += penalties[key];
  }
  return { format: Math.min(1, Math.max(0, 1 - total)), penalties, answer };
}
