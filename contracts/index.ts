// The shapes that cross the walls between the parts (server, worker, SDK, CLI, dashboard): zod
// schemas and the types inferred from them (and GSM8K's answer rule, which two parts apply). This folder depends on zod alone and imports nothing
// from the other parts, so every part can validate what it receives with the same rules.
export * from "./run-config.js";
export * from "./benchmark-config.js";
export * from "./rollout-options.js";
export * from "./paper-preset.js";
export * from "./tools-config.js";
export * from "./prompt.js";
export * from "./chat-template-args.js";
export * from "./rollout.js";
export * from "./claim-context.js";
export * from "./metric-keys.js";
export * from "./study.js";
export * from "./gsm8k-answer.js";
export * from "./unknown-keys.js";
