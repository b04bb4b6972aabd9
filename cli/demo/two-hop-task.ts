// The lookup task's two-hop variant, for the paper's 3 -> 2 -> 1 -> 0 ablation (REPLICATION.md, claim 2).
// A question asks for the code of someone's partner: one passage names the partner, another holds the
// partner's code, so a right answer takes two searches:
//
//   Q: Code of partner of KM?
//   <search> KM </search>
//
//   <information>Doc 1(Title: KM) partner BX</information>
//
//   <search> BX </search>
//
//   <information>Doc 1(Title: BX) 7</information>
//
//   <answer> 7 </answer>
//
// The worked examples are ordered like the official set: one-search, multi-search, one-search. So the
// 3- and 2-shot prompts show a two-search example, and the 1-shot prompt only a one-search one: the
// mechanism the paper names for the 1-shot stage teaching the model to stop after one search.
// Names, codes and the template are the lookup task's (lookup-task.ts); "the most recent name" is the
// one to search for at both hops, which a tiny model can learn. A name is either a person (its
// passage names a partner) or a holder (its passage holds a code), never both, so the first search
// finds exactly one passage; at the second, the holder's own passage is the shorter of the two that
// hold its name, and BM25 ranks it first. Names the search analyzer drops as stop words (BE, BY) are
// left out: a search for them finds nothing (the one-hop demo task has BE among its held-out questions,
// so its held-out accuracy cannot exceed 23/24).
import { writeFile } from "node:fs/promises";
import type { DemonstrationSet } from "../../contracts/index.js";
import { mulberry32 } from "../../worker/icrl/index.js";
import { analyzeTerm } from "../../worker/tools/index.js";
import { LOOKUP_CODE_DIGITS, LOOKUP_NAME_COUNT, lookupResponse, makeLookupItems, type LookupEpisode } from "./lookup-task.js";

export interface TwoHopItem {
  id: string;
  question: string;
  /** The name the question asks about. */
  name: string;
  /** The holder of the code: the partner (two hops), or `name` itself (one hop). */
  holder: string;
  code: string;
  hops: 1 | 2;
}

/** The question of an item: one hop asks for a holder's code, two hops for a person's partner's. */
export function twoHopQuestion(name: string, hops: 1 | 2): string {
  return hops === 2 ? `Code of partner of ${name}?` : `Code of ${name}?`;
}

/** The whole correct response, observations included, as the search tool formats them. */
export function twoHopTrajectory(item: Pick<TwoHopItem, "name" | "holder" | "code" | "hops">): string {
  const hop = lookupResponse({ name: item.holder, code: item.code });
  if (item.hops === 1) return hop;
  return `<search> ${item.name} </search>\n\n<information>Doc 1(Title: ${item.name}) partner ${item.holder}</information>\n\n${hop}`;
}

/** The task's sizes: 3 worked examples (one-, two-, one-search), then two-hop questions. */
export const TWO_HOP_TASK = { questions: 47, validation: 24, seed: 7 } as const;

/** The lookup task's names that a search can find, in the lookup task's random order for a seed. */
function searchableNames(seed: number) {
  return makeLookupItems(LOOKUP_NAME_COUNT, seed).filter((it) => analyzeTerm(it.name) !== null);
}

export interface TwoHopTask {
  /** One-search, two-search, one-search, in that order. */
  examples: TwoHopItem[];
  /** Two-hop questions; the last `validation` are held out. */
  questions: TwoHopItem[];
  /** Every passage: persons name their partner, holders hold their code. */
  passages: { id: string; title: string; text: string }[];
}

/** Deterministic for a seed: the lookup task's names and codes, split into persons and holders. */
export function makeTwoHopTask(options: { questions?: number; seed?: number } = {}): TwoHopTask {
  const count = options.questions ?? TWO_HOP_TASK.questions;
  const names = searchableNames(options.seed ?? TWO_HOP_TASK.seed);
  // Per question a person and a holder; the examples take 3 holders and 1 person.
  if (!Number.isInteger(count) || count < 1 || 2 * count + 4 > names.length) {
    throw new RangeError(`the two-hop task has room for ${Math.floor((names.length - 4) / 2)} questions, asked for ${count}`);
  }
  const holders = names.slice(0, count + 3);
  const persons = names.slice(count + 3, 2 * count + 4);
  const item = (id: string, person: string | undefined, holder: (typeof names)[number]): TwoHopItem => ({
    id,
    question: twoHopQuestion(person ?? holder.name, person ? 2 : 1),
    name: person ?? holder.name,
    holder: holder.name,
    code: holder.code,
    hops: person ? 2 : 1,
  });
  const examples = [
    item("two-hop-demo-0", undefined, holders[0]),
    item("two-hop-demo-1", persons[0].name, holders[1]),
    item("two-hop-demo-2", undefined, holders[2]),
  ];
  const questions = persons.slice(1).map((p, i) => item(`two-hop-${i}`, p.name, holders[3 + i]));
  const passages = [
    ...holders.map((h) => ({ id: `holder-${h.name}`, title: h.name, text: h.code })),
    ...[...examples, ...questions].filter((q) => q.hops === 2).map((q) => ({ id: `person-${q.name}`, title: q.name, text: `partner ${q.holder}` })),
  ];
  return { examples, questions, passages };
}

export function twoHopDemonstrations(examples: readonly TwoHopItem[]): DemonstrationSet {
  return { name: "two-hop-demos", task: "qa", items: examples.map((e) => ({ question: e.question, trajectory: twoHopTrajectory(e) })) };
}

/** The corpus, and the dataset of the two-hop questions (split train/val). */
export async function writeTwoHopFiles(task: TwoHopTask, files: { corpus: string; dataset?: string }, validation: number = TWO_HOP_TASK.validation) {
  await writeFile(files.corpus, task.passages.map((p) => JSON.stringify(p)).join("\n") + "\n");
  if (files.dataset) {
    const lines = task.questions.map((q, i) =>
      JSON.stringify({ id: q.id, question: q.question, golden_answers: [q.code], split: i >= task.questions.length - validation ? "val" : "train" }),
    );
    await writeFile(files.dataset, lines.join("\n") + "\n");
  }
}

/**
 * `--set` settings that turn the demo's run file (and a study over it) into a two-hop run: its data,
 * and rollouts with room for two searches (a third tool turn for a wrong one) and their observations.
 */
export function twoHopRunSettings(ids: { datasetId: string; demonstrationSetId: string; corpus: string }): string[] {
  return [
    `dataset.id=${ids.datasetId}`,
    `demonstrations.setId=${ids.demonstrationSetId}`,
    `tools.search.corpus=${ids.corpus}`,
    `rollout.maxToolTurns=${TWO_HOP_ROLLOUT.maxToolTurns}`,
    `rollout.maxTotalTokens=${TWO_HOP_ROLLOUT.maxTotalTokens}`,
  ];
}

/** The two-hop runs' rollout limits (the demo's turn length; one search turn and its result are ~60 bytes). */
export const TWO_HOP_ROLLOUT = { maxToolTurns: 3, maxTurnTokens: 40, maxTotalTokens: 200 } as const;

/**
 * Pre-training episodes with random names, partners and codes: a share `twoHopShare` asks two-hop
 * questions, the rest one-hop ones, so the base learns to search again while the result is a name and
 * to answer once it is a code. guessRate[shots] is the share that answers a random code at once.
 */
export function twoHopEpisodes(
  count: number,
  options: { seed?: number; shots?: readonly number[]; guessRate?: Readonly<Record<number, number>>; twoHopShare?: number } = {},
): LookupEpisode[] {
  const share = options.twoHopShare ?? 0.5;
  if (!(share >= 0 && share <= 1)) throw new RangeError(`twoHopShare must be between 0 and 1, got ${share}`);
  const random = mulberry32((options.seed ?? 1) ^ 0x2b0d7e11);
  const pool = makeLookupItems(LOOKUP_NAME_COUNT, options.seed ?? 1).map((it) => it.name);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)];
  const shots = options.shots ?? [0];
  return Array.from({ length: count }, (_, i) => {
    const name = pick(pool);
    let holder = pick(pool);
    while (holder === name) holder = pick(pool);
    const code = pick([...LOOKUP_CODE_DIGITS]);
    const hops: 1 | 2 = random() < share ? 2 : 1;
    const k = shots[i % shots.length];
    const guess = random() < (options.guessRate?.[k] ?? 0);
    const guessed = pick([...LOOKUP_CODE_DIGITS]);
    const trajectory = guess ? `<answer> ${guessed} </answer>` : twoHopTrajectory({ name, holder: hops === 2 ? holder : name, code, hops });
    return { id: `episode-${i}`, question: twoHopQuestion(name, hops), trajectory, shots: k, guess };
  });
}
