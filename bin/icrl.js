#!/usr/bin/env node
// The `icrl` binary: registers tsx so the TypeScript sources run as they are, then hands over to the CLI.
import { register } from "tsx/esm/api";
// Production semantics unless the caller set NODE_ENV: graphql-js then skips its development-only
// checks (a cross-realm instanceof guard on every failed type test, decided once when graphql is
// first imported, hence here, before the CLI loads), and Express keeps stack traces out of answers.
process.env.NODE_ENV ??= "production";
register();
// A reader that went away (`icrl run show … | head`) is not an error of ours: stop quietly, exit 0.
process.stdout.on("error", (error) => {
  if (error.code === "EPIPE") process.exit(0);
  throw error;
});
await import("../cli/main.ts");
