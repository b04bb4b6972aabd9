// A small synthetic tool-use task that a tiny model can learn on a CPU in minutes, used by the
// learning test and the demo. Each question asks for the secret code of a made-up name; the code is
// random, so it can only be answered by searching the corpus and copying the code from the result.
//
//   Q: Code of KM?
//   <search> KM </search>
//
//   <information>Doc 1(Title: KM) 7</information>
//
//   <answer> 7 </answer>
//
// Why so small: a tiny model trained from random weights (LoRA only) learns "copy the token of this
// kind from the recent context" in about a hundred warm-start steps, but not ordered copying of longer
// strings (4-letter names and 3-digit codes stayed at chance after 200+ steps). So a name is two
// capitals from two disjoint sets (the first letter always from FIRST, the second from SECOND) and a
// code is one digit; none of these characters occur in the fixed prompt text around them (Use, Q,
// Code, Doc 1, Title). Held-out questions are still new: unseen names (letter pairs) with their own codes.
// Two of the 100 names, BE and BY, are English stop words that the search analyzer drops, so a search for
// them finds nothing: with the demo's seed BY is the first worked example (only shown, never searched)
// and BE one of the 24 held-out questions, so held-out accuracy cannot exceed 23/24 (0.958). It is the
// same ceiling for every run and arm; the demo's data is kept as it is so that recorded results stay
// comparable (the two-hop task, two-hop-task.ts, leaves both names out).
// Everything is short on purpose: a byte-level tiny model reads every character, and the learner's cost
// grows faster than linearly with sequence length. There is no <think> block (the format score's
// "no think" penalty is the same for every rollout, so it does not change any advantage).
import { writeFile } from "node:fs/promises";
import { PromptTemplateSchema, type DemonstrationSet, type PromptTemplate } from "../../contracts/index.js";
import type { Engine } from "../../worker/engine/index.js";
import { mulberry32, renderPrompt, type RenderedPrompt } from "../../worker/icrl/index.js";

export interface LookupItem {
  id: string;
  name: string;
  code: string;
  question: string;
}

const FIRST = "BFGHJKPVWX";
const SECOND = "LMARSZEIOY";
/** The digits a code is drawn from. */
export const LOOKUP_CODE_DIGITS = "023456789";

/** How many distinct names exist (makeLookupItems cannot make more items). */
export const LOOKUP_NAME_COUNT = FIRST.length * SECOND.length;

/** Distinct names with random one-digit codes, in a random order; deterministic for a seed. */
export function makeLookupItems(count: number, seed = 1): LookupItem[] {
  if (!Number.isInteger(count) || count < 0 || count > LOOKUP_NAME_COUNT) {
    throw new RangeError(`the lookup task has ${LOOKUP_NAME_COUNT} names, asked for ${count} items`);
  }
  const random = mulberry32(seed);
  const pick = (s: string) => s[Math.floor(random() * s.length)];
  const names = [...FIRST].flatMap((a) => [...SECOND].map((b) => a + b));
  for (let i = names.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [names[i], names[j]] = [names[j], names[i]];
  }
  return names.slice(0, count).map((name, i) => ({ id: `lookup-${i}`, name, code: pick(LOOKUP_CODE_DIGITS), question: `Code of ${name}?` }));
}

export const LOOKUP_TEMPLATE: PromptTemplate = PromptTemplateSchema.parse({
  name: "lookup-v3",
  task: "qa",
  instructions: "Use <search> name </search>, then <answer> code </answer>.",
  demonstrationsHeader: "",
  demonstration: "Q: {question}\n{trajectory}",
  demonstrationSeparator: "\n",
  question: "Q: {question}",
  correction: "\nUse <search> name </search> or <answer> code </answer>.\n",
  toolsDisabled: "\nNo more searches. <answer> code </answer> now.\n",
});

/** What a correct response looks like (the observation is what the search tool returns). */
export function lookupTrajectory(item: Pick<LookupItem, "name" | "code">): { call: string; observation: string; answer: string } {
  return {
    call: `<search> ${item.name} </search>`,
    observation: `<information>Doc 1(Title: ${item.name}) ${item.code}</information>`,
    answer: `<answer> ${item.code} </answer>`,
  };
}

/** The correct response as one text: the call, the tool's observation, the answer (what a rollout shows). */
export function lookupResponse(item: Pick<LookupItem, "name" | "code">): string {
  const t = lookupTrajectory(item);
  return `${t.call}\n\n${t.observation}\n\n${t.answer}`;
}

export function lookupDemonstrations(items: readonly LookupItem[]): DemonstrationSet {
  return {
    name: "lookup-demos",
    task: "qa",
    items: items.map((item) => ({ question: item.question, trajectory: lookupResponse(item) })),
  };
}

/** A question's prompt with the lookup template and the first `shots` worked examples, as runs render it. */
export function renderLookupPrompt(
  engine: Pick<Engine, "tokenize" | "formatChat">,
  item: Pick<LookupItem, "id" | "question">,
  shots: number,
  demonstrations: DemonstrationSet,
): RenderedPrompt {
  return renderPrompt(engine, { question: item.question, questionId: item.id, shots, template: LOOKUP_TEMPLATE, demonstrations });
}

export interface LookupEpisode {
  id: string;
  question: string;
  trajectory: string;
  /** Worked examples in this episode's prompt. */
  shots: number;
  /** Answered at once with a random code, no search. */
  guess: boolean;
}

/**
 * Pre-training episodes for the lookup model: any name, with a code drawn afresh for each episode, so
 * they teach the skill (search for the name, copy the code from the result) and no item's actual code.
 * With probability guessRate[shots] an episode skips the search and answers a random code: a base
 * model pre-trained so uses the tool when its prompt shows worked examples and mostly guesses without
 * them, the situation ICRL's curriculum (3 -> 2 -> 0 shots) is for.
 */
export function lookupEpisodes(
  count: number,
  options: {
    seed?: number;
    shots?: readonly number[];
    guessRate?: Readonly<Record<number, number>>;
    /**
     * Share of the zero-shot episodes that search, exactly (floor of share x count, spread evenly);
     * replaces guessRate[0]. It sets the base model's zero-shot habit apart from its k-shot one.
     */
    zeroShotSearchRate?: number;
  } = {},
): LookupEpisode[] {
  const searchRate = options.zeroShotSearchRate;
  if (searchRate !== undefined && !(searchRate >= 0 && searchRate <= 1)) {
    throw new RangeError(`zeroShotSearchRate must be between 0 and 1, got ${searchRate}`);
  }
  const random = mulberry32((options.seed ?? 1) ^ 0x6b43a9b5);
  const pick = (s: string) => s[Math.floor(random() * s.length)];
  const shots = options.shots ?? [0];
  let zeroShot = 0;
  return Array.from({ length: count }, (_, i) => {
    const name = pick(FIRST) + pick(SECOND);
    const code = pick(LOOKUP_CODE_DIGITS);
    const k = shots[i % shots.length];
    // Drawn even where zeroShotSearchRate decides, for the same reason as the guessed code below.
    let guess = random() < (options.guessRate?.[k] ?? 0);
    if (k === 0 && searchRate !== undefined) {
      // Counted, not drawn: a rate of 0 or 0.01 must hold in a few hundred episodes, not on average.
      guess = Math.floor((zeroShot + 1) * searchRate) === Math.floor(zeroShot * searchRate);
      zeroShot++;
    }
    // With a zero-shot prior the guessed code is drawn for every episode, so that the prior does not
    // shift the draws of the episodes after it (without one, as the demo's base always was).
    const guessed = guess || searchRate !== undefined ? pick(LOOKUP_CODE_DIGITS) : "";
    const trajectory = guess ? `<answer> ${guessed} </answer>` : lookupResponse({ name, code });
    return { id: `episode-${i}`, question: `Code of ${name}?`, trajectory, shots: k, guess };
  });
}

/** Corpus passages ({id, title, text}) and the dataset lines ({id, question, golden_answers}). */
export async function writeLookupFiles(items: readonly LookupItem[], files: { corpus: string; dataset?: string }): Promise<void> {
  await writeFile(files.corpus, items.map((it) => JSON.stringify({ id: it.id, title: it.name, text: it.code })).join("\n") + "\n");
  if (files.dataset) {
    await writeFile(
      files.dataset,
      items.map((it) => JSON.stringify({ id: it.id, question: it.question, golden_answers: [it.code] })).join("\n") + "\n",
    );
  }
}
