// The directories a worker may read on behalf of a job. Run and benchmark configs name worker-local
// paths (model.path, tools.search.corpus, …) and any member key can create a run, so without a check a
// config could make the worker read any file it can read and show it in rollouts. Every config-named
// path is resolved (`..` and symlinks included) and must lie under one of the roots the worker was
// started with; the job then opens the resolved path, so what was checked is what is read.
import fs from "node:fs";
import path from "node:path";
import type { ToolsConfigInput } from "../tools/registry.js";
import { JobInputError } from "./errors.js";

/**
 * The roots when none are given: the worker's own data directory, and `.icrl/models` and `.icrl/data`
 * of its working directory, where README's commands and the examples put models and corpora.
 */
export function defaultAllowedRoots(dataDir: string): string[] {
  return [path.resolve(dataDir), path.resolve(".icrl", "models"), path.resolve(".icrl", "data")];
}

/**
 * The real path of `p`, also when it does not exist (yet): the deepest existing ancestor is resolved
 * and the rest appended, so a missing file under a symlinked directory is judged where it would be.
 */
function realPath(p: string): string {
  const absolute = path.resolve(p);
  try {
    return fs.realpathSync.native(absolute);
  } catch {
    const parent = path.dirname(absolute);
    if (parent === absolute) return absolute;
    return path.join(realPath(parent), path.basename(absolute));
  }
}

export class AllowedPaths {
  /** The roots as given (for messages) and resolved (for checks). */
  readonly roots: readonly string[];
  private readonly realRoots: readonly string[];

  constructor(roots: readonly string[]) {
    if (roots.length === 0) throw new Error("A worker needs at least one directory it may read (--allow-path DIR).");
    this.roots = roots.map((r) => path.resolve(r));
    this.realRoots = this.roots.map(realPath);
  }

  /**
   * The resolved path of `given`, which `field` of the job's input named; a JobInputError (the job
   * fails, no retry) when it lies outside every root.
   */
  check(given: string, field: string): string {
    const real = realPath(given);
    if (this.realRoots.some((root) => real === root || real.startsWith(root.endsWith(path.sep) ? root : root + path.sep))) return real;
    const resolved = real === given ? "" : ` (resolves to ${real})`;
    throw new JobInputError(
      `${field} ${given}${resolved} is outside the directories this worker may read (${this.roots.join(", ")}). ` +
        `Put the file under one of them, or start the worker with --allow-path <dir> (repeatable; env ICRL_ALLOW_PATHS).`,
    );
  }

  /** The tools config with its local paths checked and resolved; `prefix` is where the job's input holds it. */
  checkTools<T extends ToolsConfigInput | undefined>(tools: T, prefix: string): T {
    if (tools?.search?.kind !== "local") return tools;
    const search = { ...tools.search, corpus: this.check(tools.search.corpus, `${prefix}.search.corpus`) };
    if (search.cacheDir) search.cacheDir = this.check(search.cacheDir, `${prefix}.search.cacheDir`);
    return { ...tools, search };
  }
}
