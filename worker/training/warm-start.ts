// Optional warm start before RL: plain next-token training of the LoRA on the demonstration
// trajectories, so a tiny model that has never seen the tags succeeds sometimes (pure on-policy RL
// from random weights never samples a rewarded answer). Observations inside <information> are loss-
// masked exactly as in rollouts: the model is taught to call tools and answer, never to invent results.
import type { Engine } from "../engine/types.js";
import type { LearnerDriver } from "../learner/driver.js";
import { renderPrompt } from "../icrl/prompt.js";
import type { ChatTemplateArgs, DemonstrationSet, PromptTemplate } from "../../contracts/index.js";

const OBSERVATION = /\n\n<information>[\s\S]*?<\/information>\n\n/g;

/** Trajectory text -> [text, trained?] pieces: observations (with their blank lines) are not trained. */
export function splitTrajectory(trajectory: string): [string, 0 | 1][] {
  const parts: [string, 0 | 1][] = [];
  let at = 0;
  for (const m of trajectory.matchAll(OBSERVATION)) {
    if (m.index! > at) parts.push([trajectory.slice(at, m.index), 1]);
    parts.push([m[0], 0]);
    at = m.index! + m[0].length;
  }
  if (at < trajectory.length) parts.push([trajectory.slice(at), 1]);
  return parts;
}

/** Prompt tokens (untrained) followed by a trajectory's tokens, trained except its observations. */
export function trajectorySequence(
  engine: Pick<Engine, "tokenize">,
  promptTokens: readonly number[],
  trajectory: string,
): { tokens: number[]; mask: number[] } {
  const tokens = [...promptTokens];
  const mask: number[] = promptTokens.map(() => 0);
  for (const [text, trained] of splitTrajectory(trajectory)) {
    const ids = engine.tokenize(text, { specialTokens: false });
    tokens.push(...ids);
    mask.push(...ids.map(() => trained));
  }
  return { tokens, mask };
}

export function warmStartSequences(
  engine: Pick<Engine, "tokenize" | "formatChat">,
  demonstrations: DemonstrationSet,
  template: PromptTemplate,
  shotsCycle: readonly number[],
  chatTemplateArgs?: ChatTemplateArgs,
): { sequences: number[][]; masks: number[][] } {
  const sequences: number[][] = [];
  const masks: number[][] = [];
  demonstrations.items.forEach((item, i) => {
    const shots = shotsCycle[i % shotsCycle.length];
    const prompt = renderPrompt(engine, { question: item.question, questionId: `demo-${i}`, shots, template, demonstrations, chatTemplateArgs });
    const { tokens, mask } = trajectorySequence(engine, prompt.tokens, item.trajectory);
    sequences.push(tokens);
    masks.push(mask);
  });
  return { sequences, masks };
}

export async function warmStart(
  learner: LearnerDriver,
  engine: Pick<Engine, "tokenize" | "formatChat">,
  options: {
    demonstrations: DemonstrationSet;
    template: PromptTemplate;
    chatTemplateArgs?: ChatTemplateArgs;
    shots: readonly number[];
    steps: number;
    lr: number;
  },
) {
  const { sequences, masks } = warmStartSequences(engine, options.demonstrations, options.template, options.shots, options.chatTemplateArgs);
  const result = await learner.request("pretrain", { sequences, masks, steps: options.steps, lr: options.lr }, 3_600_000);
  // The warmed-up policy becomes the KL reference and the optimizer starts fresh for RL.
  await learner.reset({ reference: true, optimizer: true });
  return result;
}
