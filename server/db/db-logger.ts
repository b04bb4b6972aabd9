// The logging surface the database layer needs: any pino logger (or child) fits.
import { pino, type Logger } from "pino";

export type DbLogger = Pick<Logger, "debug" | "info" | "warn" | "error">;

export const silentLogger: DbLogger = pino({ level: "silent" });
