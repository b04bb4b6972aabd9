// Structured JSON logs (pino). One root logger; modules take children with a `component` field.
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
