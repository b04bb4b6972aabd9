// Structured JSON logs (pino) for the worker process; modules take children with a `component`.
import { pino, type Logger } from "pino";

export type { Logger };

export function createWorkerLogger(options: { level?: string; name?: string } = {}): Logger {
  return pino({
    name: options.name ?? "icrl-worker",
    level: options.level ?? process.env.ICRL_LOG_LEVEL ?? "info",
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}

/** A logger that writes nothing (library use and tests). */
export const silentLogger: Logger = pino({ level: "silent" });
