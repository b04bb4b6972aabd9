// Errors the engine raises for bad inputs, so callers can tell a bad file (user's fault, exit code 2,
// job fails without retry) from an engine failure.

/** A model or adapter file that must not be handed to llama.cpp. Lists every problem found. */
export class InvalidModelError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
    readonly kind: "model" | "adapter" = "model",
  ) {
    super(`invalid ${kind} file ${file}: ${problems.join("; ")}`);
    this.name = "InvalidModelError";
  }
}
