// One node-llama-cpp `Llama` per process and GPU choice. It only ever uses binaries already installed
// (the prebuilt @node-llama-cpp/<platform> packages, or a local build made on purpose with
// `npx node-llama-cpp source build`): never downloads llama.cpp nor compiles it, because workers are
// often offline and an unexpected CMake build at job time would take minutes and likely fail.
import { getLlama, LlamaLogLevel, type Llama, type LlamaGpuType } from "node-llama-cpp";

export type GpuChoice = "auto" | Exclude<LlamaGpuType, false> | false;

const instances = new Map<string, Promise<Llama>>();

/** The last llama.cpp log lines, attached to load errors (library code never prints). */
const recentLogs: string[] = [];
const RECENT_LOGS_KEPT = 40;
const logListeners = new Set<(level: string, message: string) => void>();

/**
 * ICRL_LLAMA_LOG_STDERR=1 also writes llama.cpp's warnings and errors to stderr as they happen: a failing
 * GPU kernel aborts the process (GGML_ABORT) before anyone could read the kept lines, and its message
 * ("CUDA error: ...") is one of them.
 */
const mirrorToStderr = Boolean(process.env.ICRL_LLAMA_LOG_STDERR);

function onLlamaLog(level: LlamaLogLevel, message: string): void {
  const line = `${level}: ${message.trim()}`;
  if (mirrorToStderr) process.stderr.write(`[llama.cpp] ${line}\n`);
  recentLogs.push(line);
  if (recentLogs.length > RECENT_LOGS_KEPT) recentLogs.shift();
  for (const listener of logListeners) listener(level, message);
}

export function recentLlamaLogs(): string[] {
  return [...recentLogs];
}

/** Receive llama.cpp's warnings and errors (e.g. to forward them to a worker's structured log). */
export function addLlamaLogListener(listener: (level: string, message: string) => void): () => void {
  logListeners.add(listener);
  return () => logListeners.delete(listener);
}

/**
 * Get (once per process) a Llama for this GPU choice. `maxThreads: 0` lifts node-llama-cpp's
 * process-wide thread cap (max(cores, 4) by default, which oversubscribes small machines); each
 * context sets its own thread count instead.
 */
export function loadLlama(gpu: GpuChoice = "auto"): Promise<Llama> {
  const key = String(gpu);
  let instance = instances.get(key);
  if (!instance) {
    instance = getLlama({
      gpu,
      build: "never",
      skipDownload: true,
      usePrebuiltBinaries: true,
      progressLogs: false,
      maxThreads: 0,
      logLevel: LlamaLogLevel.warn,
      logger: onLlamaLog,
    }).catch((error: unknown) => {
      instances.delete(key);
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`no usable llama.cpp binary for gpu=${key} (this project never builds or downloads one): ${reason}`, { cause: error });
    });
    instances.set(key, instance);
  }
  return instance;
}
