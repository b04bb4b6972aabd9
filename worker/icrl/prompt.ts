// Builds the rollout prompt: ONE user message holding the instructions, k demonstrations and the
// question, rendered through the model's own chat template (ARCHITECTURE.md, "The method").
import type { ChatMessage, ChatTemplateArgs, Engine } from "../engine/types.js";
import type { DemonstrationSelection, DemonstrationSet, PromptTemplate } from "../../contracts/index.js";
import { fillPlaceholders } from "./placeholders.js";
import { keyedRandom, sampleIndices } from "./seeded-random.js";

export interface PromptRequest {
  question: string;
  /** Stable id of the question: with "sampled" selection it picks the demonstrations. */
  questionId: string;
  /** Number of demonstrations; 0 is zero-shot (no demonstrations, no header). */
  shots: number;
  template: PromptTemplate;
  demonstrations?: DemonstrationSet | null;
  /** Default "first". */
  selection?: DemonstrationSelection;
  /** Seed for "sampled" selection (default 0). */
  seed?: number;
  /** Extra chat template variables (run config model.chatTemplateArgs). */
  chatTemplateArgs?: ChatTemplateArgs;
}

export interface BuiltPrompt {
  messages: ChatMessage[];
  /** The single user message. */
  userMessage: string;
  /** Indices into demonstrations.items, in the order shown. */
  demonstrationIndices: number[];
}

export interface RenderedPrompt extends BuiltPrompt {
  /** The chat-template rendering, ending with the assistant turn opener. */
  text: string;
  tokens: number[];
}

const normalizeQuestion = (q: string) => q.trim().replace(/\s+/g, " ").toLowerCase();

/**
 * Which demonstrations a question gets. Items whose question equals the asked question are never
 * shown (a demonstration set built from training data must not leak the answer). When fewer than
 * `shots` items are eligible, all of them are used.
 * "sampled" draws depend only on (seed, questionId): the same on every worker and after a resume.
 */
export function selectDemonstrations(
  set: DemonstrationSet,
  shots: number,
  options: { selection?: DemonstrationSelection; seed?: number; questionId: string; question?: string },
): number[] {
  if (!Number.isInteger(shots) || shots < 0) throw new RangeError(`shots must be a non-negative integer, got ${shots}`);
  const asked = options.question === undefined ? null : normalizeQuestion(options.question);
  const eligible = set.items.map((_, i) => i).filter((i) => normalizeQuestion(set.items[i].question) !== asked);
  if (shots === 0) return [];
  if ((options.selection ?? "first") === "first") return eligible.slice(0, shots);
  const random = keyedRandom(options.seed ?? 0, options.questionId);
  // Shown in set order, so a hand-ordered set (easy examples first) keeps its order.
  return sampleIndices(eligible.length, shots, random)
    .sort((a, b) => a - b)
    .map((i) => eligible[i]);
}

export function buildPrompt(request: PromptRequest): BuiltPrompt {
  const { template, demonstrations, shots } = request;
  if (shots > 0 && !demonstrations) {
    throw new Error(`a ${shots}-shot prompt needs a demonstration set`);
  }
  if (demonstrations && demonstrations.task !== template.task) {
    throw new Error(
      `demonstration set "${demonstrations.name}" is for task ${demonstrations.task}, template "${template.name}" for ${template.task}`,
    );
  }
  const indices = demonstrations
    ? selectDemonstrations(demonstrations, shots, {
        selection: request.selection,
        seed: request.seed,
        questionId: request.questionId,
        question: request.question,
      })
    : [];

  const parts = [template.instructions];
  if (indices.length > 0 && demonstrations) {
    const rendered = indices.map((itemIndex, position) =>
      fillPlaceholders(template.demonstration, {
        index: String(position + 1),
        question: demonstrations.items[itemIndex].question,
        trajectory: demonstrations.items[itemIndex].trajectory,
      }),
    );
    if (template.demonstrationsHeader.trim() !== "") parts.push(template.demonstrationsHeader);
    parts.push(rendered.join(template.demonstrationSeparator));
  }
  parts.push(fillPlaceholders(template.question, { question: request.question.trim() }));
  const userMessage = parts.join("\n\n");

  const messages: ChatMessage[] = [];
  if (template.systemPrompt) messages.push({ role: "system", content: template.systemPrompt });
  messages.push({ role: "user", content: userMessage });
  return { messages, userMessage, demonstrationIndices: indices };
}

/** Build, render through the model's chat template and tokenize (special tokens of the template parsed). */
export function renderPrompt(engine: Pick<Engine, "formatChat" | "tokenize">, request: PromptRequest): RenderedPrompt {
  const built = buildPrompt(request);
  const text = engine.formatChat(built.messages, request.chatTemplateArgs);
  return { ...built, text, tokens: engine.tokenize(text, { specialTokens: true }) };
}
