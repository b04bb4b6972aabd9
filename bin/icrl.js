#!/usr/bin/env node
// The `icrl` binary: registers tsx so the TypeScript sources run as they are, then hands over to the CLI.
import { register } from "tsx/esm/api";
register();
await import("../client-sdk/cli/main.ts");
