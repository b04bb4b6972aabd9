// The multi-turn ICRL rollout loop (ARCHITECTURE.md, "The method") for one group of G rollouts on the G
// sequences of one EngineGroup. Each sequence runs its own loop: generate until a closing tool tag,
// </answer> or end of sequence; run the tool; insert its result (loss mask 0); repeat. There is no
// barrier between sequences: while one waits for its tool, the others keep generating, and the
// engine batches whatever generate() calls are pending.
import type { Engine, EngineGroup, EngineSequence, SamplingOptions } from "../engine/types.js";
import type { Tool, ToolResult } from "../tools/types.js";
import { QA_SEARCH_TEMPLATE } from "./default-templates.js";
import type { PromptTemplate, RolloutLoop, TurnCapAction } from "../../contracts/index.js";
import { fillPlaceholders } from "./placeholders.js";
import { fnv1a32 } from "./seeded-random.js";
import { RolloutTrace, type RolloutResult } from "./rollout-trace.js";
import { parseTurn, toolSyntax, type TurnAction } from "./turn-parser.js";
import type { RolloutFinishReason } from "../../contracts/index.js";

export interface RolloutOptions {
  /** Tools by their tag name. An empty list runs answer-only rollouts. */
  tools: readonly Tool[];
  /** Turns with tools enabled before the one final tools-off turn. Default 6. */
  maxToolTurns?: number;
  /** Tokens one generation turn may sample. Default 512, the run and benchmark configs' default (the paper: 2048). */
  maxTokensPerTurn?: number;
  /**
   * Tokens the whole response may hold: sampled AND inserted (tool results, corrections). Default 2048, as
   * the configs' maxTotalTokens (the official code cuts the response at 5000).
   * The group's sequences need room for prompt + this many tokens.
   */
  maxResponseTokens?: number;
  /** Tool output beyond this many tokens is cut (the paper: 500). Default 500. */
  maxObservationTokens?: number;
  /** Default temperature 1, topK 0, topP 1, minP 0: the untruncated policy, as on-policy RL needs. */
  sampling?: SamplingOptions;
  /**
   * A tools-on turn that ends at end of sequence without an action: "correct" (default) inserts a
   * correction and continues, as the paper's loop does with any unusable turn; "finish" ends the
   * rollout with finish reason "eos".
   */
  onEos?: "correct" | "finish";
  /**
   * A turn that reaches maxTokensPerTurn without closing a tag: "end" (default) ends the rollout with
   * finish reason "length"; "invalid" treats it as an invalid action and continues, as the official loop does.
   */
  turnCapAction?: TurnCapAction;
  /**
   * "ours" (default): corrections name what was wrong, and a tools-off notice precedes the final turn.
   * "official": every invalid turn gets OFFICIAL_INVALID_NOTICE, and the final turn runs with no notice;
   * it may still write a call (it stops at a closing tool tag as any turn), which is not executed.
   */
  loop?: RolloutLoop;
  /** Wording of the inserted correction / tools-off notice: pass the prompt template. Default: the QA template's. */
  messages?: Pick<PromptTemplate, "correction" | "toolsDisabled">;
  /** Tag wrapping every tool observation. Default "information" (the scorer strips it). */
  observationTag?: string;
  signal?: AbortSignal;
}

export interface RolloutGroupResult {
  promptIds: number[];
  rollouts: RolloutResult[];
  wallMs: number;
  /**
   * Prompt tokens the engine evaluated for the group (EngineGroup.promptTokensEvaluated): G x prompt
   * when every sequence evaluates it, prompt - 1 + G when it is evaluated once and shared.
   */
  promptTokensEvaluated?: number;
}

/** The same defaults as the run and benchmark configs' (contracts), so a caller that passes nothing gets what a run gets. */
export const DEFAULT_ROLLOUT_LIMITS = Object.freeze({
  maxToolTurns: 6,
  maxTokensPerTurn: 512,
  maxResponseTokens: 2048,
  maxObservationTokens: 500,
});

/**
 * The official loop's one invalid-action notice (search_r1/llm_agent/generation.py, execute_predictions),
 * the same whatever went wrong; the search tag it names is the official code's only tool.
 */
export const OFFICIAL_INVALID_NOTICE =
  "\nMy previous action is invalid. If I want to search, I should put the query between <search> and </search>. If I want to give the final answer, I should put the answer between <answer> and </answer>. Let me try again.\n";

const DEFAULT_SAMPLING: SamplingOptions = { temperature: 1, topK: 0, topP: 1, minP: 0 };

type TextEngine = Pick<Engine, "tokenize" | "detokenize">;

interface LoopConfig {
  engine: TextEngine;
  tools: Map<string, Tool>;
  toolNames: string[];
  maxToolTurns: number;
  maxTokensPerTurn: number;
  maxObservationTokens: number;
  sampling: SamplingOptions;
  onEos: "correct" | "finish";
  turnCapAction: TurnCapAction;
  loop: RolloutLoop;
  messages: { correction: string; toolsDisabled: string };
  observationTag: string;
  signal?: AbortSignal;
}

function nonNegativeInt(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative integer, got ${value}`);
  return value;
}

/**
 * Run one rollout per sequence of `group`, all from the same prompt. `promptIds` are appended to
 * every sequence first, through group.appendShared (so the group must be fresh). Never throws for tool failures; an engine
 * failure ends that rollout with finish reason "error".
 */
export async function runRolloutGroup(
  engine: TextEngine,
  group: EngineGroup,
  promptIds: readonly number[],
  options: RolloutOptions,
): Promise<RolloutGroupResult> {
  const tools = new Map<string, Tool>();
  for (const tool of options.tools) {
    if (!/^[A-Za-z_][\w-]*$/.test(tool.name)) throw new Error(`tool name "${tool.name}" cannot be used as a tag`);
    if (tool.name === "answer" || tool.name === "think" || tool.name === (options.observationTag ?? "information")) {
      throw new Error(`tool name "${tool.name}" collides with a format tag`);
    }
    if (tools.has(tool.name)) throw new Error(`two tools are named "${tool.name}"`);
    tools.set(tool.name, tool);
  }
  const maxResponseTokens = nonNegativeInt(options.maxResponseTokens ?? DEFAULT_ROLLOUT_LIMITS.maxResponseTokens, "maxResponseTokens");
  const config: LoopConfig = {
    engine,
    tools,
    toolNames: [...tools.keys()],
    maxToolTurns: nonNegativeInt(options.maxToolTurns ?? DEFAULT_ROLLOUT_LIMITS.maxToolTurns, "maxToolTurns"),
    maxTokensPerTurn: nonNegativeInt(options.maxTokensPerTurn ?? DEFAULT_ROLLOUT_LIMITS.maxTokensPerTurn, "maxTokensPerTurn"),
    maxObservationTokens: nonNegativeInt(options.maxObservationTokens ?? DEFAULT_ROLLOUT_LIMITS.maxObservationTokens, "maxObservationTokens"),
    sampling: options.sampling ?? DEFAULT_SAMPLING,
    onEos: options.onEos ?? "correct",
    turnCapAction: options.turnCapAction ?? "end",
    loop: options.loop ?? "ours",
    messages: options.messages ?? QA_SEARCH_TEMPLATE,
    observationTag: options.observationTag ?? "information",
    signal: options.signal,
  };

  const started = performance.now();
  const prompt = [...promptIds];
  // One call for the whole group: the engine may evaluate the shared prompt once for all sequences.
  group.appendShared(prompt);
  const rollouts = await Promise.all(
    group.sequences.map((sequence, index) => runOne(config, sequence, index, new RolloutTrace(index, prompt.length, maxResponseTokens))),
  );
  const result: RolloutGroupResult = { promptIds: prompt, rollouts, wallMs: performance.now() - started };
  if (group.promptTokensEvaluated !== undefined) result.promptTokensEvaluated = group.promptTokensEvaluated;
  return result;
}

/** A per-(sample, turn) seed when the caller fixed one: equal seeds on all G sequences would make them identical. */
function samplingFor(base: SamplingOptions, sampleIndex: number, turn: number): SamplingOptions {
  if (base.seed === undefined) return base;
  return { ...base, seed: fnv1a32(`${base.seed}:${sampleIndex}:${turn}`) };
}

async function runOne(config: LoopConfig, sequence: EngineSequence, sampleIndex: number, trace: RolloutTrace): Promise<RolloutResult> {
  const started = performance.now();
  const done = (reason: RolloutFinishReason, error?: string) => trace.finish(reason, performance.now() - started, error);
  const fill = (template: string, reason = "") => fillPlaceholders(template, { reason, tools: toolSyntax(config.toolNames) });
  /** Insert loop text; false when the budget cannot hold it. */
  const insertSystem = (text: string) => {
    const tokens = config.engine.tokenize(text, { specialTokens: false });
    if (!trace.addInserted({ kind: "SYSTEM", text: config.engine.detokenize(tokens) }, tokens)) return false;
    sequence.append(tokens);
    return true;
  };

  const official = config.loop === "official";
  /** The notice an invalid turn gets: the template's correction naming the reason, or the official fixed one. */
  const correction = (reason: string) => (official ? OFFICIAL_INVALID_NOTICE : fill(config.messages.correction, reason));
  let toolTurns = 0;
  if (config.maxToolTurns === 0 && !official && !insertSystem(fill(config.messages.toolsDisabled))) return done("length");

  for (;;) {
    const toolsOn = toolTurns < config.maxToolTurns;
    const maxTokens = Math.min(config.maxTokensPerTurn, trace.remainingTokens);
    if (maxTokens <= 0) return done("length");

    // The official final turn is told nothing and stops where any turn does; a call it makes is not run.
    const stopTags = toolsOn || official ? [...config.toolNames, "answer"] : ["answer"];
    const stopStrings = stopTags.map((t) => `</${t}>`);
    const generationStarted = performance.now();
    let turn;
    try {
      turn = await sequence.generate({
        maxTokens,
        stopStrings,
        sampling: samplingFor(config.sampling, sampleIndex, trace.turns),
        signal: config.signal,
      });
    } catch (error) {
      trace.generationMs += performance.now() - generationStarted;
      return done("error", error instanceof Error ? error.message : String(error));
    }
    trace.generationMs += performance.now() - generationStarted;
    trace.turns++;

    // A capped turn is cut mid-text: "end" stops there, "invalid" reads it as no action (the budget check
    // above still ends the rollout once the whole response is spent).
    const capped = turn.finishReason === "length";
    const action: TurnAction | null = !capped
      ? parseTurn(turn.text, toolsOn ? config.toolNames : [])
      : config.turnCapAction === "invalid"
        ? { kind: "invalid", attemptedCall: false, reason: `the turn reached its limit of ${maxTokens} tokens without an action` }
        : null;
    trace.addModelTurn(
      turn.tokens,
      turn.text,
      action?.kind === "call" ? { start: action.callStart, tool: action.tool, input: action.input } : undefined,
    );
    if (action === null) return done("length");
    if (action.kind === "answer") return done("answer");
    if (!toolsOn) return done("max_turns");
    if (turn.finishReason === "eos" && config.onEos === "finish" && action.kind === "invalid") {
      if (action.attemptedCall) trace.toolCallsInvalid++;
      return done("eos");
    }

    toolTurns++;
    const lastToolTurn = toolTurns >= config.maxToolTurns;
    if (action.kind === "call") {
      trace.toolCallsValid++;
      if (!(await runTool(config, sequence, trace, action.tool, action.input))) return done("length");
    } else {
      if (action.attemptedCall) trace.toolCallsInvalid++;
      // On the last tool turn the tools-off notice below replaces the correction (ours); the official
      // loop inserts its notice after every invalid turn, the last included.
      if (!lastToolTurn || official) {
        // Counted once inserted: a correction the budget cannot hold was never shown to the model.
        if (!insertSystem(correction(action.reason))) return done("length");
        trace.corrections++;
      }
    }
    if (lastToolTurn && !official && !insertSystem(fill(config.messages.toolsDisabled))) return done("length");
  }
}

/** Call a tool, turning any failure into an observation. */
async function safeCall(tool: Tool, input: string, signal?: AbortSignal): Promise<ToolResult> {
  const started = performance.now();
  try {
    return await tool.call(input, { signal });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return {
      ok: false,
      observation: `Error: the ${tool.name} tool failed: ${message}`,
      error: { code: "UNAVAILABLE", message },
      durationMs: performance.now() - started,
    };
  }
}

/** Run the call and insert its observation. Returns false when the budget cannot hold it. */
async function runTool(config: LoopConfig, sequence: EngineSequence, trace: RolloutTrace, toolName: string, input: string): Promise<boolean> {
  const tool = config.tools.get(toolName)!;
  const started = performance.now();
  const result = await safeCall(tool, input, config.signal);
  const durationMs = performance.now() - started;
  trace.toolMs += durationMs;
  if (!result.ok) trace.toolErrors++;

  // Trailing whitespace is dropped (search results end each line with "\n"), as Search-R1 strips
  // observations, so the block always reads "...last line</information>".
  let observation = result.observation.replace(/\s+$/, "");
  if (!result.ok && observation.trim() === "" && result.error) {
    observation = `Error (${result.error.code}): ${result.error.message}`;
  }
  const { engine, observationTag: tag } = config;
  let body = engine.tokenize(observation, { specialTokens: false });
  const truncated = body.length > config.maxObservationTokens;
  if (truncated) body = body.slice(0, config.maxObservationTokens);
  const tokens = [
    ...engine.tokenize(`\n\n<${tag}>`, { specialTokens: false }),
    ...body,
    ...engine.tokenize(`</${tag}>\n\n`, { specialTokens: false }),
  ];
  trace.toolCalls.push({
    turn: trace.turns,
    tool: toolName,
    input,
    ok: result.ok,
    ...(result.error ? { errorCode: result.error.code } : {}),
    durationMs,
    observationTokens: body.length,
    truncated,
  });
  const segment = { kind: "TOOL_RESULT" as const, text: engine.detokenize(tokens), tool: toolName, ok: result.ok };
  if (!trace.addInserted(segment, tokens)) return false;
  sequence.append(tokens);
  return true;
}
