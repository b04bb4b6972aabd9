// Structured JSON logs (pino): the one logger factory of the project (server, and the worker started by
// `icrl worker`). One root logger; modules take children with a `component` field. Loads only pino.
import { pino, type Logger } from "pino";

export type { Logger };

export function createLogger(options: { level?: string; name?: string } = {}): Logger {
  return pino({
    name: options.name ?? "icrl",
    level: options.level ?? process.env.ICRL_LOG_LEVEL ?? "info",
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
