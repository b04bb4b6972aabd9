// What every job sets up the same way: the model with the adapter it evaluates or none, and the
// configured tools. A model or tool this worker cannot provide is the job's input error, not a fault
// of the worker, so the job fails with the reason instead of being retried elsewhere forever.
import { errorMessage } from "../../client-sdk/src/index.js";
import type { Engine } from "../engine/types.js";
import { buildTools, type ToolSet, type ToolsConfigInput } from "../tools/registry.js";
import type { Tool } from "../tools/types.js";
import type { EngineCache } from "./engine-cache.js";
import { JobInputError } from "./errors.js";

/**
 * The job's engine, serving `adapter` (a verified local file) or the bare model. `field` is where the
 * job's input named the model (model.path of a run, benchmarkRun.model), for the error when it is missing.
 */
export async function jobEngine(
  engines: Pick<EngineCache, "get">,
  model: { path: string; field: string },
  adapter: { id: string; file: string } | null = null,
): Promise<Awaited<ReturnType<EngineCache["get"]>>> {
  const engine = await engines.get(model.path, model.field).catch((error: unknown) => {
    if (error instanceof JobInputError) throw error;
    throw new JobInputError(`Cannot load model ${model.path} on this worker: ${errorMessage(error)}`, { cause: error });
  });
  try {
    await engine.setAdapter(adapter?.file ?? null);
  } catch (error) {
    if (!adapter) throw error;
    throw new JobInputError(`Adapter artifact ${adapter.id} cannot be used with ${model.path}: ${errorMessage(error)}`, { cause: error });
  }
  return engine;
}

export interface JobTools {
  /** Owns the tools' processes and indexes: close it when the job ends. */
  toolSet: ToolSet;
  tools: Tool[];
}

/** The configured tools, counting observation tokens with the job's model. */
export async function jobTools(config: ToolsConfigInput, engine: Pick<Engine, "tokenize">, owner: string): Promise<JobTools> {
  let toolSet: ToolSet;
  try {
    toolSet = await buildTools(config, { countTokens: (text) => engine.tokenize(text).length });
  } catch (error) {
    throw new JobInputError(`Cannot set up ${owner}'s tools on this worker: ${errorMessage(error)}`, { cause: error });
  }
  return { toolSet, tools: toolSet.names.map((name) => toolSet.get(name)!) };
}
