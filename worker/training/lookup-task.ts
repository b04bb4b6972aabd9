// A small synthetic tool-use task that a tiny model can learn on a CPU in minutes, used by the
// learning test and the demo. Each question asks for the secret code of a made-up name; the code is
// random, so it can only be answered by searching the corpus and copying the code from the result.
//
//   Question: What is the code of Velko?
//   <search> Velko </search>
//   <information>Doc 1(Title: Velko) Velko code 417</information>
//   <answer> 417 </answer>
//
// The prompt wording is short on purpose: a byte-level tiny model reads every character.
import { writeFile } from "node:fs/promises";
import { PromptTemplateSchema, type DemonstrationSet, type PromptTemplate } from "../icrl/prompt-schema.js";

export interface LookupItem {
  id: string;
  name: string;
  code: string;
  question: string;
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CONSONANTS = "bdfgklmnprstvz";
const VOWELS = "aeiou";

/** Distinct pronounceable names with random 3-digit codes, deterministic for a seed. */
export function makeLookupItems(count: number, seed = 1): LookupItem[] {
  const random = rng(seed);
  const pick = (s: string) => s[Math.floor(random() * s.length)];
  const names = new Set<string>();
  while (names.size < count) {
    const n = pick(CONSONANTS).toUpperCase() + pick(VOWELS) + pick(CONSONANTS) + pick(VOWELS);
    names.add(n);
  }
  return [...names].map((name, i) => {
    const code = String(100 + Math.floor(random() * 900));
    return { id: `lookup-${i}`, name, code, question: `Code of ${name}?` };
  });
}

export const LOOKUP_TEMPLATE: PromptTemplate = PromptTemplateSchema.parse({
  name: "lookup-v1",
  task: "qa",
  instructions: "Find the code. Use <search> name </search>, then <answer> code </answer>.",
  demonstrationsHeader: "Examples:",
  demonstration: "Q: {question}\n{trajectory}",
  demonstrationSeparator: "\n",
  question: "Q: {question}",
  correction: "\nUse <search> name </search> or <answer> code </answer>.\n",
  toolsDisabled: "\nNo more searches. <answer> code </answer> now.\n",
});

/** What a correct response looks like (the observation is what the search tool returns). */
export function lookupTrajectory(item: Pick<LookupItem, "name" | "code">): { call: string; observation: string; answer: string } {
  return {
    call: `<think>search</think><search> ${item.name} </search>`,
    observation: `<information>Doc 1(Title: ${item.name}) ${item.name} code ${item.code}</information>`,
    answer: `<think>found</think><answer> ${item.code} </answer>`,
  };
}

export function lookupDemonstrations(items: readonly LookupItem[]): DemonstrationSet {
  return {
    name: "lookup-demos",
    task: "qa",
    items: items.map((item) => {
      const t = lookupTrajectory(item);
      return { question: item.question, trajectory: `${t.call}\n\n${t.observation}\n\n${t.answer}` };
    }),
  };
}

/** Corpus passages ({id, title, text}) and the dataset lines ({id, question, golden_answers}). */
export async function writeLookupFiles(items: readonly LookupItem[], files: { corpus: string; dataset?: string }): Promise<void> {
  await writeFile(files.corpus, items.map((it) => JSON.stringify({ id: it.id, title: it.name, text: `${it.name} code ${it.code}` })).join("\n") + "\n");
  if (files.dataset) {
    await writeFile(files.dataset, items.map((it) => JSON.stringify({ id: it.id, question: it.question, golden_answers: [it.code] })).join("\n") + "\n");
  }
}
