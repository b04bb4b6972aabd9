// The worker logs through pino's Logger interface; whoever starts a worker chooses the logger (the
// CLI uses the project's one pino factory, server/logger.ts). Modules take children with a `component`.
import { pino, type Logger } from "pino";

export type { Logger };

/** A logger that writes nothing (library use and tests). */
export const silentLogger: Logger = pino({ level: "silent" });
