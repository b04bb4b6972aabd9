// Texts for checking that llama.cpp tokenizes our built GGUFs exactly as the Hugging Face tokenizer
// does: the repository's own data (questions, answers, passages, math solutions), its prompt templates
// with demonstrations, and generated cases aimed at the pre-tokenizer's edges (unicode scripts, emoji
// sequences, combining marks, right-to-left text, code, whitespace runs, digit runs, contractions) and
// at added tokens inside running text. Deterministic, so a failure names the same text every run.
//
// Every text is NFC. Qwen's tokenizer.json normalises input to NFC and llama.cpp does not normalise at
// all, so a decomposed "e\u0301" tokenizes differently in the two; the repository's data is all NFC.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { ChatMessage } from "../../worker/engine/types.js";
import { MATH_PYTHON_DEMONSTRATIONS, QA_SEARCH_DEMONSTRATIONS } from "../../worker/icrl/default-demonstrations.js";
import { MATH_PYTHON_TEMPLATE, QA_SEARCH_TEMPLATE } from "../../worker/icrl/default-templates.js";
import { buildPrompt } from "../../worker/icrl/prompt.js";

const DATA = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../fixtures/data");

function jsonl(file: string): Record<string, unknown>[] {
  return fs
    .readFileSync(path.join(DATA, file), "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l));
}

function strings(rows: Record<string, unknown>[], ...keys: string[]): string[] {
  const out: string[] = [];
  for (const row of rows) {
    for (const key of keys) {
      const v = row[key];
      if (typeof v === "string" && v !== "") out.push(v);
      if (Array.isArray(v)) out.push(...v.filter((x): x is string => typeof x === "string" && x !== ""));
    }
  }
  return out;
}

/** Questions, answers and passages from test/fixtures/data. */
export function fixtureTexts(): string[] {
  const qa = ["nq_open_test", "hotpotqa_dev500_r1searcher", "triviaqa_sample3000", "musique_dev500_r1searcher", "bamboogle_test"];
  const wiki = JSON.parse(fs.readFileSync(path.join(DATA, "wiki_passages/hipporag_2wikimultihopqa_corpus_head300.json"), "utf8"));
  return [
    ...qa.flatMap((name) => strings(jsonl(`unified/${name}.jsonl`), "question", "golden_answers")),
    ...strings(jsonl("unified/gsm8k_test.jsonl"), "problem", "answer"),
    ...strings(jsonl("gsm8k/test.jsonl"), "question", "answer"),
    ...strings(jsonl("math500/test.jsonl"), "problem", "solution", "answer"),
    ...strings(jsonl("hotpotqa/passages.jsonl"), "title", "text"),
    ...strings(wiki, "title", "text"),
    ...strings(jsonl("wiki_passages/searchr1_wiki18_example_corpus.jsonl"), "contents"),
  ];
}

/** The default prompts (instructions, k demonstrations, a question) as chat messages, 0-3 shots. */
export function promptMessages(): ChatMessage[][] {
  const qa = strings(jsonl("unified/hotpotqa_dev500_r1searcher.jsonl"), "question").slice(0, 40);
  const math = strings(jsonl("unified/gsm8k_test.jsonl"), "problem").slice(0, 40);
  const qaPrompts = qa.map(
    (question, i) =>
      buildPrompt({ question, questionId: `qa${i}`, shots: i % 4, template: QA_SEARCH_TEMPLATE, demonstrations: QA_SEARCH_DEMONSTRATIONS }).messages,
  );
  const mathPrompts = math.map(
    (question, i) =>
      buildPrompt({ question, questionId: `m${i}`, shots: i % 4, template: MATH_PYTHON_TEMPLATE, demonstrations: MATH_PYTHON_DEMONSTRATIONS })
        .messages,
  );
  return [...qaPrompts, ...mathPrompts];
}

/** A small seeded generator (mulberry32): the same corpus on every machine. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const UNICODE = [
  "我想在apple工作1314151天～",
  "東京都の天気は晴れです。",
  "한국어 문장입니다, 그렇죠?",
  "Ελληνικά κείμενα με τόνους",
  "нещо на Български и Русский",
  "مرحبا بالعالم، كيف حالك؟",
  "שלום עולם! מה שלומך?",
  "עִבְרִית עם ניקוד",
  "हिन्दी में लिखा गया वाक्य",
  "กรุงเทพมหานคร ภาษาไทย",
  "កាន់តែពិសេសអាច",
  "🚀 (normal) 😶‍🌫️ (multiple emojis concatenated) ✅ 🦙🦙",
  "👨‍👩‍👧‍👦 family, 🏳️‍🌈 flag, 👍🏽 skin tone, 🇯🇵🇫🇷 flags",
  "q́ ẋ̂ a̧̛ Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇",
  "ﬁ ligature, ½ fraction, ℌ𝔢𝔩𝔩𝔬 math letters, Ⅻ numerals",
  "naïve café résumé São Paulo Zürich",
  "\u200b zero\u200bwidth \u200d joiner \ufeff bom",
  "tab\tseparated\tvalues\there",
  "'''''''```````\"\"\"\"......!!!!!!??????",
  "I've been 'told he's there, 'RE you sure? 'M not sure I'll make it, 'D you like some tea? We'Ve a'lL",
  "------======= ******* ####### ~~~~~~ ______",
];

const CODE = [
  "def f(x):\n    return x ** 2  # square\n",
  "for (let i = 0; i < n; i++) {\n\tsum += a[i];\n}\n",
  "import numpy as np\nprint(np.arange(10).reshape(2, 5).sum(axis=1))",
  '{"name": "search", "arguments": {"query": "capital of Chile", "k": 3}}',
  "SELECT id, name FROM users WHERE age >= 18 ORDER BY name DESC;",
  '<div class="x">&nbsp;&lt;tag&gt;</div>',
  "    if a != b:\n        raise ValueError(f'{a!r} != {b!r}')\n",
  "x = [1,2,3]; y = {k: v for k, v in zip('abc', x)}",
  '#include <stdio.h>\nint main(void) { printf("%d\\n", 42); }',
  "$ ls -la | grep '^d' && echo \"done\" > /dev/null 2>&1",
];

const SPECIALS = {
  qwen: [
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|vision_pad|>",
    "<tool_call>",
    "</tool_call>",
    "<|fim_prefix|>",
    "<|file_sep|>",
    "<tool_response>",
    "<think>",
    "</think>",
  ],
  llama3: [
    "<|begin_of_text|>",
    "<|end_of_text|>",
    "<|start_header_id|>",
    "<|end_header_id|>",
    "<|eot_id|>",
    "<|reserved_special_token_5|>",
    "<|python_tag|>",
  ],
};

/** Generated edge cases; `family` picks which added tokens get embedded in text. */
export function generatedTexts(family: keyof typeof SPECIALS, count: number): string[] {
  const next = random(family === "qwen" ? 7 : 11);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)];
  const words = fixtureTexts()
    .slice(0, 400)
    .flatMap((t) => t.split(/\s+/))
    .filter((w) => w !== "");
  const whitespace = () => {
    const unit = pick([" ", "\t", "\n", "\r\n", "  ", "\n\n", " \n", "\u00a0", "\u3000"]);
    return unit.repeat(1 + Math.floor(next() * 24));
  };
  const digits = () => {
    const n = 1 + Math.floor(next() * 30);
    let s = "";
    for (let i = 0; i < n; i++) s += Math.floor(next() * 10);
    return pick(["", "-", "$", "3.", "0x", "1,"]) + s + pick(["", "%", ".5", " km", ",000"]);
  };
  const pieces = [
    () => pick(words),
    () => pick(UNICODE),
    () => pick(CODE),
    whitespace,
    digits,
    () => pick(SPECIALS[family]),
    () => pick(SPECIALS[family]) + pick(words),
    () => pick(words) + pick(SPECIALS[family]),
  ];
  const out = [...UNICODE, ...CODE];
  for (const token of SPECIALS[family]) out.push(token, ` ${token} `, `a${token}b`, `${token}${token}`, `\n${token}\n`);
  for (let n = 1; n <= 40; n++) out.push(" ".repeat(n), "\t".repeat(n), "\n".repeat(n), `a${" ".repeat(n)}b`, `x\n${" ".repeat(n)}y`);
  while (out.length < count) {
    const parts = 1 + Math.floor(next() * 8);
    let text = "";
    for (let i = 0; i < parts; i++) text += pick(pieces)() + (next() < 0.5 ? " " : "");
    out.push(text);
  }
  return out;
}
